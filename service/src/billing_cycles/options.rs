//! The option words of a billing cycle (B-6, B-7, B-8).

use crate::settings::{AccountingMethod, BillingTime, Settings};

/// B-6: `default` follows the membership settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CycleBillingTime {
    #[default]
    Default,
    Annual,
    Anniversary,
}

/// B-7: `default` follows the membership settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CycleAccounting {
    #[default]
    Default,
    Cash,
    Accrual,
}

/// B-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AutopayOption {
    /// AutoPay invoices go into a batch (I-5); the others are billed normally.
    #[default]
    BillAll,
    /// Only contacts enrolled in AutoPay; always accrual.
    OnlyAutopay,
    OnlyNonAutopay,
}

macro_rules! words {
    ($t:ty { $($v:ident => $w:literal),* $(,)? }) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $w),* }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($w => Some(Self::$v),)* _ => None }
            }
        }
    };
}

words!(CycleBillingTime { Default => "default", Annual => "annual", Anniversary => "anniversary" });
words!(CycleAccounting { Default => "default", Cash => "cash", Accrual => "accrual" });
words!(AutopayOption { BillAll => "bill_all", OnlyAutopay => "only_autopay", OnlyNonAutopay => "only_non_autopay" });

impl CycleBillingTime {
    pub fn resolve(self, settings: &Settings) -> BillingTime {
        match self {
            CycleBillingTime::Default => settings.default_billing_time,
            CycleBillingTime::Annual => BillingTime::Annual,
            CycleBillingTime::Anniversary => BillingTime::Anniversary,
        }
    }
}

impl CycleAccounting {
    pub fn resolve(self, settings: &Settings) -> AccountingMethod {
        match self {
            CycleAccounting::Default => settings.default_accounting_method,
            CycleAccounting::Cash => AccountingMethod::Cash,
            CycleAccounting::Accrual => AccountingMethod::Accrual,
        }
    }
}
