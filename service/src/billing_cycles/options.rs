//! The option words of a billing cycle (B-6, B-7, B-8). A cycle without a billing time or
//! accounting method of its own (`None`, shown as `default`) follows the membership settings.

pub use entity::words::{AccountingMethod, AutopayOption, BillingTime};

use super::CycleFields;
use crate::settings::Settings;

impl CycleFields {
    /// B-6: the cycle's billing time, or the settings' default.
    pub fn effective_billing_time(&self, settings: &Settings) -> BillingTime {
        self.billing_time.unwrap_or(settings.default_billing_time)
    }

    /// B-7: the cycle's accounting method, or the settings' default.
    pub fn effective_accounting_method(&self, settings: &Settings) -> AccountingMethod {
        self.accounting_method
            .unwrap_or(settings.default_accounting_method)
    }

    /// B-8: the method a renewal run bills with: AutoPay-only cycles always bill accrual.
    pub fn run_accounting_method(&self, settings: &Settings) -> AccountingMethod {
        if self.autopay_option == AutopayOption::OnlyAutopay {
            AccountingMethod::Accrual
        } else {
            self.effective_accounting_method(settings)
        }
    }
}
