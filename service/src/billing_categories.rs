//! BC-1, BC-2: billing categories separate prices within a customer type; a lookup list.

use crate::codes;
use crate::lookup::LookupTable;
use crate::usage::uses;

pub const TABLE: LookupTable = LookupTable {
    table: "billing_categories",
    what: "billing category",
    check_code: codes::check_category_code,
    uses: &[
        uses("contacts", "billing_category", "contacts"),
        uses("pricing_rules", "billing_category", "pricing rules"),
        uses(
            "billing_cycle_categories",
            "billing_category",
            "billing cycles",
        ),
    ],
    protected: &[],
};
