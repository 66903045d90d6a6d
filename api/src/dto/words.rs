//! The wire form of each stored domain word (`service::entity::words`): one DTO enum per word,
//! with the same snake_case strings, converted both ways. A cycle's billing time and
//! accounting method may also be `default` ([`OrDefault`]).

use std::borrow::Cow;

use serde::de::{Deserializer, Error as _, IntoDeserializer};
use serde::{Deserialize, Serialize, Serializer};
use service::entity::words as svc;
use utoipa::openapi::schema::{Object, Schema, Type};
use utoipa::openapi::{RefOr, schema::SchemaType};
use utoipa::{PartialSchema, ToSchema};

/// A DTO enum for a service word, with `From` both ways; the `match`es keep the variant lists
/// equal.
macro_rules! word_dto {
    ($(#[$doc:meta])* $dto:ident = $svc:ty { $($(#[$vdoc:meta])* $v:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $dto { $($(#[$vdoc])* $v),+ }

        impl From<$dto> for $svc {
            fn from(d: $dto) -> Self { match d { $(<$dto>::$v => <$svc>::$v),+ } }
        }
        impl From<$svc> for $dto {
            fn from(d: $svc) -> Self { match d { $(<$svc>::$v => <$dto>::$v),+ } }
        }
    };
}

word_dto! {
    /// B-6: terms aligned to the fiscal year (`annual`, prorated) or to the member's anniversary.
    BillingTimeDto = svc::BillingTime { Annual, Anniversary }
}

word_dto! {
    /// B-7: dues count as income at billing (`accrual`) or at payment (`cash`).
    AccountingMethodDto = svc::AccountingMethod { Cash, Accrual }
}

word_dto! {
    /// B-8.
    AutopayOptionDto = svc::AutopayOption {
        /// AutoPay invoices go into a batch; the others are billed normally.
        BillAll,
        /// Only contacts enrolled in AutoPay (always accrual).
        OnlyAutopay,
        OnlyNonAutopay,
    }
}

impl Default for AutopayOptionDto {
    fn default() -> Self {
        svc::AutopayOption::default().into()
    }
}

word_dto! {
    ProductTypeDto = svc::ProductType { Dues, Chapter, Miscellaneous, Section, Subscription, Voluntary }
}

word_dto! {
    RoleDto = svc::Role { Staff, Member }
}

word_dto! {
    /// C-8: what kind of group a committee is.
    CommitteeKindDto = svc::CommitteeKind { Board, Committee, TaskForce }
}

word_dto! {
    /// J-4: a rejoin inside the cycle's window is billed as a renewal.
    TreatedAsDto = svc::TreatedAs { Join, Renewal }
}

word_dto! {
    InvoiceKindDto = svc::InvoiceKind { Join, Renewal, Other }
}

/// The word `default`.
const DEFAULT: &str = "default";

/// A cycle's choice of a word, or `default`: follow the membership settings (B-6, B-7).
/// `None` is `default`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrDefault<T>(pub Option<T>);

impl<T> OrDefault<T> {
    /// The wire form of a service choice (`None`: `default`).
    pub fn of<S: Into<T>>(choice: Option<S>) -> Self {
        OrDefault(choice.map(Into::into))
    }

    /// The service choice this stands for (`None`: `default`).
    pub fn choice<S>(self) -> Option<S>
    where
        T: Into<S>,
    {
        self.0.map(Into::into)
    }
}

impl<T> Default for OrDefault<T> {
    fn default() -> Self {
        OrDefault(None)
    }
}

/// B-6: `default` follows the membership settings; proration happens only with `annual`.
pub type BillingTimeOption = OrDefault<BillingTimeDto>;
/// B-7: `default` follows the membership settings.
pub type AccountingOption = OrDefault<AccountingMethodDto>;

impl<T: Serialize> Serialize for OrDefault<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            None => s.serialize_str(DEFAULT),
            Some(word) => word.serialize(s),
        }
    }
}

impl<'de, T: Deserialize<'de> + ToSchema> Deserialize<'de> for OrDefault<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text == DEFAULT {
            return Ok(OrDefault::default());
        }
        let de: serde::de::value::StringDeserializer<D::Error> = text.clone().into_deserializer();
        T::deserialize(de).map(|w| OrDefault(Some(w))).map_err(|_| {
            let expected = Self::words().join("`, `");
            D::Error::custom(format!(
                "unknown variant `{text}`, expected one of `{expected}`"
            ))
        })
    }
}

impl<T: ToSchema> OrDefault<T> {
    /// `default` and then the words of `T`, as its schema lists them.
    fn words() -> Vec<String> {
        let mut words = vec![DEFAULT.to_owned()];
        if let RefOr::T(Schema::Object(o)) = T::schema() {
            let listed = o.enum_values.unwrap_or_default();
            words.extend(listed.iter().filter_map(|v| v.as_str().map(str::to_owned)));
        }
        words
    }

    fn description() -> Option<String> {
        match T::schema() {
            RefOr::T(Schema::Object(o)) => o.description,
            _ => None,
        }
    }
}

impl<T: ToSchema> PartialSchema for OrDefault<T> {
    fn schema() -> RefOr<Schema> {
        let description =
            Self::description().map(|d| format!("{d} `default` follows the membership settings."));
        let mut object = Object::with_type(SchemaType::Type(Type::String));
        object.enum_values = Some(Self::words().into_iter().map(Into::into).collect());
        object.description = description;
        RefOr::T(Schema::Object(object))
    }
}

impl<T: ToSchema> ToSchema for OrDefault<T> {
    /// `BillingTimeDto` gives `BillingTimeOption`.
    fn name() -> Cow<'static, str> {
        let word = T::name();
        Cow::Owned(format!("{}Option", word.trim_end_matches("Dto")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The API shows each word as the database stores it.
    fn same_strings<S, D>(all: &[S], as_str: fn(S) -> &'static str)
    where
        S: Copy + Into<D>,
        D: Serialize,
    {
        for &word in all {
            let shown = serde_json::to_value(word.into()).unwrap_or_default();
            assert_eq!(shown, as_str(word));
        }
    }

    #[test]
    fn every_word_is_shown_as_stored() {
        same_strings::<_, BillingTimeDto>(svc::BillingTime::ALL, svc::BillingTime::as_str);
        same_strings::<_, AccountingMethodDto>(
            svc::AccountingMethod::ALL,
            svc::AccountingMethod::as_str,
        );
        same_strings::<_, AutopayOptionDto>(svc::AutopayOption::ALL, svc::AutopayOption::as_str);
        same_strings::<_, ProductTypeDto>(svc::ProductType::ALL, svc::ProductType::as_str);
        same_strings::<_, RoleDto>(svc::Role::ALL, svc::Role::as_str);
        same_strings::<_, CommitteeKindDto>(svc::CommitteeKind::ALL, svc::CommitteeKind::as_str);
        same_strings::<_, TreatedAsDto>(svc::TreatedAs::ALL, svc::TreatedAs::as_str);
        same_strings::<_, InvoiceKindDto>(svc::InvoiceKind::ALL, svc::InvoiceKind::as_str);
    }

    #[test]
    fn a_cycle_choice_is_a_word_or_default() {
        let parse = |s: &str| serde_json::from_value::<BillingTimeOption>(serde_json::json!(s));
        assert_eq!(parse("default").ok(), Some(OrDefault(None)));
        assert_eq!(
            parse("annual").ok(),
            Some(OrDefault(Some(BillingTimeDto::Annual)))
        );
        let refused = parse("yearly")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            refused.contains("`default`, `annual`, `anniversary`"),
            "{refused}"
        );
        assert_eq!(
            serde_json::to_value(AccountingOption::default()).ok(),
            Some(serde_json::json!("default"))
        );
        assert_eq!(BillingTimeOption::name(), "BillingTimeOption");
        assert_eq!(AccountingOption::name(), "AccountingMethodOption");
    }
}
