//! The domain words stored as text. Each is defined once here: the enum the service works
//! with, the strings the column stores, and the JSON strings the API shows.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A string-backed active enum whose stored, JSON and `as_str` forms are the given words.
macro_rules! stored_word {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            EnumIter, DeriveActiveEnum, Serialize, Deserialize,
        )]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        pub enum $name {
            $($(#[$vdoc])* #[sea_orm(string_value = $word)] #[serde(rename = $word)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored (and JSON) form.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }

            /// The value whose stored form is `word`, exactly.
            pub fn parse(word: &str) -> Option<Self> {
                match word { $($word => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

stored_word! {
    /// B-6: when a membership term starts: the fiscal year (`annual`, prorated) or the
    /// member's own anniversary.
    BillingTime { Annual = "annual", Anniversary = "anniversary" }
}

stored_word! {
    /// B-7: when billed dues count as income: at billing (`accrual`) or at payment (`cash`).
    AccountingMethod { Cash = "cash", Accrual = "accrual" }
}

stored_word! {
    /// B-8: which contacts a cycle bills, by AutoPay enrolment.
    #[derive(Default)]
    AutopayOption {
        /// AutoPay invoices go into a batch (I-5); the others are billed normally.
        #[default]
        BillAll = "bill_all",
        /// Only contacts enrolled in AutoPay; always accrual.
        OnlyAutopay = "only_autopay",
        OnlyNonAutopay = "only_non_autopay",
    }
}

stored_word! {
    /// P-1: what a billing product is.
    ProductType {
        Dues = "dues",
        Chapter = "chapter",
        Miscellaneous = "miscellaneous",
        Section = "section",
        Subscription = "subscription",
        Voluntary = "voluntary",
    }
}

stored_word! {
    /// Who a login is: staff, or a member who sees only their own records.
    Role { Staff = "staff", Member = "member" }
}

stored_word! {
    /// C-8: what kind of group a committee is.
    CommitteeKind { Board = "board", Committee = "committee", TaskForce = "task_force" }
}

stored_word! {
    /// J-4: whether a join bills as a join or, inside the rejoin window, as a renewal.
    TreatedAs { Join = "join", Renewal = "renewal" }
}

stored_word! {
    /// Where an invoice came from.
    InvoiceKind { Join = "join", Renewal = "renewal", Other = "other" }
}
