//! T-1..T-7: terms, dates and amounts.
//!
//! Pure functions: no database and no "today"; every date is a parameter. Dates follow the
//! conventions at the top of DOMAIN.md (`add_months`, anniversaries, inclusive terms, fiscal-year
//! ends) and amounts are integer cents, rounded half away from zero once per invoice line.
//!
//! Date arithmetic never panics: where a result would fall outside chrono's date range (years
//! beyond about ±262,000), it saturates to `NaiveDate::MIN`/`NaiveDate::MAX` or keeps the input,
//! as each function documents.

use std::cmp::Ordering;
use std::fmt;
use std::ops::Mul;

use chrono::{Datelike, NaiveDate};

use crate::products::ProductType;
use crate::settings::BillingTime;

// ---------------------------------------------------------------------------------------------
// Calendar helpers
// ---------------------------------------------------------------------------------------------

fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in `month` (1..=12) of `year`.
fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Months since year 0 of `d`'s month (January of year 0 is 0).
fn month_index(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month0())
}

/// The (year, month 1..=12) that is `n` months after `d`'s month, or `None` when the year does
/// not fit in an `i32`.
fn shift_month(d: NaiveDate, n: i64) -> Option<(i32, u32)> {
    let index = month_index(d).checked_add(n)?;
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = u32::try_from(index.rem_euclid(12)).ok()? + 1;
    Some((year, month))
}

/// The saturation bound in the direction of `n`.
fn saturated(n: i64) -> NaiveDate {
    if n < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    }
}

/// Last day of `month` (1..=12) of `year`, or `None` outside chrono's range.
fn last_day_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, days_in_month(year, month))
}

/// Conventions: the fiscal start month as a month number; values outside 1..=12 (which
/// settings reject, T-1) are clamped into that range.
fn fiscal_month(fiscal_start_month: u32) -> u32 {
    fiscal_start_month.clamp(1, 12)
}

/// Calendar months touched by `[begin, end]`, both months counted (`2026-04-01..2026-12-31` is
/// 9). Zero when `end` is before `begin`'s month.
pub fn calendar_months(begin: NaiveDate, end: NaiveDate) -> u32 {
    let count = month_index(end) - month_index(begin) + 1;
    u32::try_from(count.max(0)).unwrap_or(u32::MAX)
}

// ---------------------------------------------------------------------------------------------
// Conventions: add_months, anniversaries, term ends, fiscal-year ends
// ---------------------------------------------------------------------------------------------

/// Conventions, `add_months(d, n)`: the same day `n` months later (earlier for negative `n`),
/// clamped to the target month's last day: `2024-01-31 + 1 = 2024-02-29`,
/// `2024-03-31 - 1 = 2024-02-29`. Used for windows and offsets (grace `L-1`, rejoin window
/// `J-4`, effective dates `R-1`).
///
/// Saturates to `NaiveDate::MAX` (or `NaiveDate::MIN` for negative `n`) when the result is
/// outside chrono's range.
pub fn add_months(d: NaiveDate, n: i32) -> NaiveDate {
    let n = i64::from(n);
    shift_month(d, n)
        .and_then(|(year, month)| {
            NaiveDate::from_ymd_opt(year, month, d.day().min(days_in_month(year, month)))
        })
        .unwrap_or_else(|| saturated(n))
}

/// Conventions, the `months`-month *anniversary* of `begin`: the same day `months` later; where
/// the target month lacks that day, the first of the following month (`2024-01-31` + 1 is
/// `2024-03-01`, `2024-02-29` + 12 is `2025-03-01`).
///
/// Saturates to `NaiveDate::MAX` when the result is outside chrono's range.
pub fn anniversary(begin: NaiveDate, months: u32) -> NaiveDate {
    anniversary_in_range(begin, months).unwrap_or(NaiveDate::MAX)
}

/// [`anniversary`], or `None` when it is outside chrono's range.
fn anniversary_in_range(begin: NaiveDate, months: u32) -> Option<NaiveDate> {
    let n = i64::from(months);
    let (year, month) = shift_month(begin, n)?;
    if begin.day() <= days_in_month(year, month) {
        NaiveDate::from_ymd_opt(year, month, begin.day())
    } else {
        // The day is missing in the target month: the first of the following month.
        shift_month(begin, n + 1).and_then(|(y, m)| NaiveDate::from_ymd_opt(y, m, 1))
    }
}

/// Conventions, the last day of a term of `months` months beginning on `begin`: the day before
/// its anniversary (terms are inclusive on both ends). `2024-02-29` + 12 ends `2025-02-28`,
/// `2024-01-31` + 1 ends `2024-02-29`, `2024-01-31` + 12 ends `2025-01-30`.
///
/// A `months` of 0 gives the day before `begin` (an empty term); the term functions below never
/// ask for one. Saturates to `NaiveDate::MAX` when the anniversary is outside chrono's range.
pub fn term_end(begin: NaiveDate, months: u32) -> NaiveDate {
    match anniversary_in_range(begin, months) {
        Some(anniversary) => anniversary.pred_opt().unwrap_or(anniversary),
        None => NaiveDate::MAX,
    }
}

/// Conventions, the *fiscal-year end on or before* `d`: the last day of a fiscal year that is not
/// after `d`. Fiscal years start on the 1st of `fiscal_start_month` (1 = January, so years end on
/// December 31; 7 = July, so they end on June 30; 3 = March, so they end on the last day of
/// February, the 29th in leap years). `fiscal_start_month` outside 1..=12 is clamped.
///
/// Returns `d` itself when the answer would be outside chrono's range.
pub fn fiscal_year_end_on_or_before(d: NaiveDate, fiscal_start_month: u32) -> NaiveDate {
    // Fiscal years end on the last day of the month before the start month; one such day falls
    // in every calendar year, so the answer is this year's or last year's.
    let end_month = match fiscal_month(fiscal_start_month) {
        1 => 12,
        m => m - 1,
    };
    match last_day_of_month(d.year(), end_month) {
        Some(end) if end <= d => end,
        _ => d
            .year()
            .checked_sub(1)
            .and_then(|year| last_day_of_month(year, end_month))
            .unwrap_or(d),
    }
}

// ---------------------------------------------------------------------------------------------
// Ratios and amounts
// ---------------------------------------------------------------------------------------------

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A non-negative fraction `num / den` used to scale prices: the proration of a term (`T-3`,
/// `T-5`: whole months / term length) and the scale of a line (`T-4`, `T-6`: term length / the
/// product's own span).
///
/// Kept unreduced so that it reads as the rule states it (`9/12`). Equality compares values
/// (`12/12 == 1/1`). A zero denominator is not a ratio; the constructors in this module never
/// produce one and [`scale_amount`] treats it as 1 rather than dividing by zero.
#[derive(Debug, Clone, Copy)]
pub struct Ratio {
    pub num: u32,
    pub den: u32,
}

impl Ratio {
    /// The ratio 1: no scaling.
    pub const ONE: Ratio = Ratio { num: 1, den: 1 };

    pub const fn new(num: u32, den: u32) -> Ratio {
        Ratio { num, den }
    }

    /// The same value in lowest terms (`9/12` gives `3/4`).
    pub fn reduced(self) -> Ratio {
        match gcd(self.num, self.den) {
            0 => self,
            g => Ratio::new(self.num / g, self.den / g),
        }
    }

    /// Whether the value is exactly 1 (no scaling at all).
    pub fn is_one(self) -> bool {
        self == Ratio::ONE
    }
}

impl PartialEq for Ratio {
    fn eq(&self, other: &Ratio) -> bool {
        let (a, b) = (self.reduced(), other.reduced());
        a.num == b.num && a.den == b.den
    }
}

impl Eq for Ratio {}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

/// `Ratio::mul` (the `*` operator): the product of two ratios, `(n1 x n2) / (d1 x d2)`, so that
/// a line scaled twice (`T-4` line ratio and `T-3` proration) is rounded once, on the product,
/// rather than once per factor (money is rounded at each invoice line, conventions).
///
/// Common factors are cancelled before multiplying, so the product is exact whenever its lowest
/// terms fit in `u32`, which every product of month-count ratios does; beyond that the parts
/// saturate at `u32::MAX`. [`line_amount`] does not depend on this: it multiplies in `i128`.
impl Mul for Ratio {
    type Output = Ratio;

    fn mul(self, other: Ratio) -> Ratio {
        let g1 = gcd(self.num, other.den).max(1);
        let g2 = gcd(other.num, self.den).max(1);
        Ratio::new(
            (self.num / g1).saturating_mul(other.num / g2),
            (self.den / g2).saturating_mul(other.den / g1),
        )
        .reduced()
    }
}

/// `numerator / den` rounded half away from zero, saturating at the `i64` bounds; `den > 0`.
fn round_half_away(numerator: i128, den: i128) -> i64 {
    let mut quotient = numerator / den;
    let remainder = numerator % den;
    if remainder.abs() * 2 >= den {
        quotient += numerator.signum();
    }
    i64::try_from(quotient).unwrap_or(if quotient < 0 { i64::MIN } else { i64::MAX })
}

/// Conventions, `T-3`, `T-4`: `cents x num / den`, rounded half away from zero to whole cents,
/// with exact integer arithmetic (`50.00 x 1/12 = 4.17`, `0.25 x 1/2 = 0.13`,
/// `-0.25 x 1/2 = -0.13`).
///
/// A zero denominator is treated as the ratio 1 (the amount is returned unchanged). A result
/// beyond the `i64` range saturates.
pub fn scale_amount(cents: i64, r: Ratio) -> i64 {
    if r.den == 0 {
        return cents;
    }
    round_half_away(i128::from(cents) * i128::from(r.num), i128::from(r.den))
}

/// `T-4`: whether a product type's price is scaled to the term length (and prorated, `T-3`,
/// `T-5`). Miscellaneous and voluntary lines never are.
pub fn is_scaled(product_type: ProductType) -> bool {
    !matches!(
        product_type,
        ProductType::Miscellaneous | ProductType::Voluntary
    )
}

/// `T-4`: the scale of a line's price: term length / the product's own term span for scaled types
/// (a 12-month journal under a 24-month membership is `24/12`, twice its price); 1 for
/// miscellaneous and voluntary lines, whose term still matches the primary fee's.
///
/// A tax companion `X_GST` (`P-5`) is scaled exactly like `X`: pass `X`'s type and span. A span of
/// 0 (not a valid product, `P-1`) leaves the price unscaled.
pub fn line_ratio(
    product_type: ProductType,
    product_term_months: u32,
    term_length_months: u32,
) -> Ratio {
    if !is_scaled(product_type) || product_term_months == 0 {
        return Ratio::ONE;
    }
    Ratio::new(term_length_months, product_term_months)
}

/// `T-3`, `T-4`, `T-5`: the amount of one invoice line.
///
/// Lines whose price is scaled (dues, chapter, section, subscription) are multiplied by the line
/// ratio (term length / product span, [`line_ratio`]) *and* by the term's proration
/// (`term.scale`: whole months / term length for a shortened annual term, 1 otherwise).
/// Miscellaneous and voluntary lines are neither scaled nor prorated: they keep their price.
///
/// The two ratios are multiplied first and the product is rounded once, half away from zero
/// (conventions: money is rounded at each invoice line), so `0.25 x 12/24 x 6/12` is `0.06`, not
/// the `0.07` that rounding each step would give. The arithmetic is exact (`i128`); a zero
/// denominator counts as 1 and results beyond `i64` saturate, as in [`scale_amount`].
pub fn line_amount(
    price_cents: i64,
    product_type: ProductType,
    product_term_months: u32,
    term: &Term,
    term_length_months: u32,
) -> i64 {
    if !is_scaled(product_type) {
        return price_cents;
    }
    let line = line_ratio(product_type, product_term_months, term_length_months);
    let part = |r: Ratio| -> (i128, i128) {
        if r.den == 0 {
            (1, 1)
        } else {
            (i128::from(r.num), i128::from(r.den))
        }
    };
    let (line_num, line_den) = part(line);
    let (scale_num, scale_den) = part(term.scale);
    round_half_away(
        i128::from(price_cents) * line_num * scale_num,
        line_den * scale_den,
    )
}

// ---------------------------------------------------------------------------------------------
// Term length (T-2) and renew months (T-6)
// ---------------------------------------------------------------------------------------------

/// The standard billing interval as a usable length: settings keep it in 1..=120 (`T-1`); a 0
/// falls back to the settings' default of 12.
fn standard_length(standard_interval: u32) -> u32 {
    if standard_interval == 0 {
        12
    } else {
        standard_interval
    }
}

/// `T-2`, `J-2`: term length of a *join* billing. With the cycle option "use the primary fee
/// product to determine term length" the contact's renew months starts as the primary product's
/// term span, so the join term is that span (`primary_term_months`; the chosen family product's
/// span for a formula primary fee), which is also the renew months the paid join records.
/// Otherwise the standard billing interval.
///
/// A primary span of 0 (not a valid product) counts as blank: the standard interval.
pub fn join_term_length(
    use_primary_fee_term: bool,
    primary_term_months: u32,
    standard_interval: u32,
) -> u32 {
    renewal_term_length(
        use_primary_fee_term,
        Some(primary_term_months),
        standard_interval,
    )
}

/// `T-2`: term length of a *renewal* billing (and of a rejoin treated as a renewal, `J-4`). With
/// the cycle option "use the primary fee product to determine term length", the contact's renew
/// months; a blank renew months (`None`, or 0) means the standard billing interval. Without the
/// option, the standard billing interval.
///
/// The primary product's span does not enter here: it is only the *starting* value of renew
/// months, set at the join ([`join_term_length`]); afterwards renew months changes only through
/// the dedicated staff action (`T-6`, `C-5`).
pub fn renewal_term_length(
    use_primary_fee_term: bool,
    renew_months: Option<u32>,
    standard_interval: u32,
) -> u32 {
    match renew_months {
        Some(months) if use_primary_fee_term && months > 0 => months,
        _ => standard_length(standard_interval),
    }
}

/// `T-6`: what a changed renew months costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewPrice {
    /// The product whose price is used: the family product of the new length, else the current
    /// product. The contact's primary product itself stays the same either way.
    pub price_product: String,
    /// Scale of that product's price: 1 for an exact family match, else new length / its span.
    pub ratio: Ratio,
    /// `price_cents` of `price_product` scaled by `ratio`, rounded half away from zero.
    pub amount_cents: i64,
}

/// `T-6`: after renew months changes (say 36 to 12), the term and price are those of the new
/// length: the family product whose term span equals `new_months`, else the current product's
/// price scaled by new length / its span.
///
/// `family` lists `(product code, term span in months, price in cents)`; prices are whatever the
/// caller resolved (`P-3`). When several family products share the new span, the current product
/// wins if it is one of them, else the first listed. `None` when no family product has the new
/// span and the current product is not in `family` (or has a span of 0), so nothing can price it.
pub fn renew_months_price(
    family: &[(String, u32, i64)],
    current_product: &str,
    new_months: u32,
) -> Option<RenewPrice> {
    let current = family.iter().find(|(code, _, _)| code == current_product);
    let exact = current
        .filter(|(_, span, _)| *span == new_months)
        .or_else(|| family.iter().find(|(_, span, _)| *span == new_months));
    let (code, span, price) = match exact {
        Some(found) => found,
        None => current.filter(|(_, span, _)| *span > 0)?,
    };
    let ratio = if *span == new_months {
        Ratio::ONE
    } else {
        Ratio::new(new_months, *span)
    };
    Some(RenewPrice {
        price_product: code.clone(),
        ratio,
        amount_cents: scale_amount(*price, ratio),
    })
}

// ---------------------------------------------------------------------------------------------
// Terms (T-3, T-5)
// ---------------------------------------------------------------------------------------------

/// A billed term, `[begin, end]` inclusive on both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    pub begin: NaiveDate,
    pub end: NaiveDate,
    /// Annual terms only (`T-3`, `T-5`): the months in the term, counting the first month whole.
    /// `None` for anniversary terms.
    pub whole_months: Option<u32>,
    /// Proration of the scaled lines: whole months / term length for annual terms (`9/12`,
    /// `12/12`), 1 for anniversary terms.
    pub scale: Ratio,
}

/// `T-3`: annual billing time applies only to terms of whole years (12, 24, 36 ... months);
/// shorter or other terms are billed by anniversary.
fn is_annual(billing_time: BillingTime, months: u32) -> bool {
    billing_time == BillingTime::Annual && months.is_multiple_of(12)
}

/// An anniversary term: `months` from `begin`, full price.
fn anniversary_term(begin: NaiveDate, months: u32) -> Term {
    Term {
        begin,
        end: term_end(begin, months),
        whole_months: None,
        scale: Ratio::ONE,
    }
}

/// An annual term from `begin`: it ends on the fiscal-year end on or before the day before its
/// anniversary. Unshortened, it has all `months` at scale `months/months`; shortened, its whole
/// months are the calendar months from `begin`'s month to the end's month, a partly covered first
/// month counting whole as the join month does in `T-3`.
fn annual_term(begin: NaiveDate, months: u32, fiscal_start_month: u32) -> Term {
    let full_end = term_end(begin, months);
    let end = fiscal_year_end_on_or_before(full_end, fiscal_start_month);
    // The end is never before `begin` for whole-year terms: a fiscal year ends in every
    // 12 months up to `full_end`. The clamp only guards the saturated extremes of the range.
    let whole = match end.cmp(&full_end) {
        Ordering::Equal => months,
        _ => calendar_months(begin, end).clamp(1, months),
    };
    Term {
        begin,
        end: end.max(begin),
        whole_months: Some(whole),
        scale: Ratio::new(whole, months),
    }
}

/// `T-3`: the term of a join on `join_date` for `months` months (0 is treated as 1).
///
/// - Anniversary billing time (or annual with a length that is not whole years): begins on the
///   join date, ends the day before its anniversary, full price (scale 1).
/// - Annual billing time, whole years: begins on the 1st of the join month and ends on the
///   fiscal-year end on or before the day before its anniversary (a 12-month April join in a
///   January fiscal year runs April..December); `whole_months` are the calendar months of the
///   term and the scaled lines are prorated by whole months / `months` (`9/12`).
///
/// A rejoin inside the `J-4` window is a renewal: use [`renewal_term`] instead.
pub fn join_term(
    join_date: NaiveDate,
    months: u32,
    billing_time: BillingTime,
    fiscal_start_month: u32,
) -> Term {
    let months = months.max(1);
    if !is_annual(billing_time, months) {
        return anniversary_term(join_date, months);
    }
    let begin = join_date.with_day(1).unwrap_or(join_date);
    annual_term(begin, months, fiscal_start_month)
}

/// `T-5`: the term of a renewal for `months` months (0 is treated as 1). It begins the day after
/// `paid_through` (on `effective_date` when the contact has no paid-through; on `paid_through`
/// itself only if it is `NaiveDate::MAX`).
///
/// - Anniversary billing time (or annual with a length that is not whole years): ends the day
///   before its anniversary, full price (scale 1).
/// - Annual billing time, whole years: ends on the fiscal-year end on or before the day before its
///   anniversary. For a member already aligned to the fiscal year this is the full term at full
///   price (`months/months`); where it shortens the term, the scaled lines are prorated as in
///   `T-3` (paid through 2026-06-30, 12 months, fiscal start January: 2026-07-01..2026-12-31,
///   6 months, `6/12`).
pub fn renewal_term(
    paid_through: Option<NaiveDate>,
    effective_date: NaiveDate,
    months: u32,
    billing_time: BillingTime,
    fiscal_start_month: u32,
) -> Term {
    let months = months.max(1);
    let begin = match paid_through {
        Some(paid) => paid.succ_opt().unwrap_or(paid),
        None => effective_date,
    };
    if is_annual(billing_time, months) {
        annual_term(begin, months, fiscal_start_month)
    } else {
        anniversary_term(begin, months)
    }
}

// ---------------------------------------------------------------------------------------------
// Rejoin window (J-4) and expiry (L-1)
// ---------------------------------------------------------------------------------------------

/// `J-4`, `B-11`: a former member joining on `join_date` is renewed, not joined, when the cycle's
/// window is set (`window_months > 0`; 0 means never) and `join_date <=
/// add_months(paid_through, window_months)`. The window is a cycle option for annual billing time
/// only: the caller passes 0 for anniversary cycles.
pub fn rejoin_is_renewal(
    paid_through: NaiveDate,
    window_months: u32,
    join_date: NaiveDate,
) -> bool {
    window_months > 0
        && join_date
            <= add_months(
                paid_through,
                i32::try_from(window_months).unwrap_or(i32::MAX),
            )
}

/// `L-1`: a member has expired as of `as_of` when `add_months(paid_through, grace_months)` is
/// before `as_of`.
pub fn is_expired(paid_through: NaiveDate, grace_months: u32, as_of: NaiveDate) -> bool {
    add_months(
        paid_through,
        i32::try_from(grace_months).unwrap_or(i32::MAX),
    ) < as_of
}

/// `L-1` as one date: the latest paid-through that has expired as of `as_of`, so that
/// "expired" is `paid_through <= cutoff`, one indexed range in the database.
/// `is_expired` only grows with the paid-through, so the expired dates form a prefix; month-end
/// clamping moves the boundary by at most three days from `as_of` minus the grace period.
pub fn last_expired_paid_through(as_of: NaiveDate, grace_months: u32) -> NaiveDate {
    let grace = i32::try_from(grace_months).unwrap_or(i32::MAX);
    let mut d = add_months(as_of, -grace);
    while !is_expired(d, grace_months, as_of) {
        match d.pred_opt() {
            Some(p) => d = p,
            None => return d,
        }
    }
    while let Some(next) = d.succ_opt().filter(|n| is_expired(*n, grace_months, as_of)) {
        d = next;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// `"166.25"` to cents.
    fn c(s: &str) -> i64 {
        crate::money::parse_amount(s).unwrap()
    }

    fn r(num: u32, den: u32) -> Ratio {
        Ratio::new(num, den)
    }

    /// Asserts a term and that its scale has exactly these parts (`9/12`, not `3/4`).
    #[track_caller]
    fn assert_term(row: &str, t: Term, begin: &str, end: &str, whole: Option<u32>, scale: Ratio) {
        assert_eq!(t.begin, d(begin), "{row}: begin");
        assert_eq!(t.end, d(end), "{row}: end");
        assert_eq!(t.whole_months, whole, "{row}: whole months");
        assert_eq!(
            (t.scale.num, t.scale.den),
            (scale.num, scale.den),
            "{row}: scale"
        );
    }

    // ---- TERM-VECTORS.md ---------------------------------------------------------------------

    /// TERM-VECTORS.md "Terms (T-3, T-5, conventions)", every row.
    #[test]
    fn t3_t5_conventions_term_vectors() {
        use BillingTime::{Anniversary, Annual};
        /// case, input, months, fiscal start (0: blank), begin, end, whole months, scale.
        type Row = (
            &'static str,
            &'static str,
            u32,
            u32,
            &'static str,
            &'static str,
            Option<u32>,
            Ratio,
        );
        const ONE: Ratio = Ratio::ONE;
        #[rustfmt::skip]
        let rows: &[Row] = &[
            ("anniversary_join", "2026-03-15", 24, 0, "2026-03-15", "2028-03-14", None, ONE),
            ("anniversary_join", "2024-01-31", 12, 0, "2024-01-31", "2025-01-30", None, ONE),
            ("anniversary_join", "2024-02-29", 12, 0, "2024-02-29", "2025-02-28", None, ONE),
            ("anniversary_join", "2024-02-29", 36, 0, "2024-02-29", "2027-02-28", None, ONE),
            ("anniversary_join", "2024-01-31", 1, 0, "2024-01-31", "2024-02-29", None, ONE),
            ("anniversary_join", "2023-01-31", 1, 0, "2023-01-31", "2023-02-28", None, ONE),
            ("anniversary_join", "2024-03-31", 1, 0, "2024-03-31", "2024-04-30", None, ONE),
            ("anniversary_join", "2025-12-31", 2, 0, "2025-12-31", "2026-02-28", None, ONE),
            ("anniversary_join", "2024-02-28", 12, 0, "2024-02-28", "2025-02-27", None, ONE),
            ("anniversary_join", "2023-03-01", 12, 0, "2023-03-01", "2024-02-29", None, ONE),
            ("annual_join", "2021-04-10", 12, 1, "2021-04-01", "2021-12-31", Some(9), r(9, 12)),
            ("annual_join", "2026-09-10", 12, 7, "2026-09-01", "2027-06-30", Some(10), r(10, 12)),
            ("annual_join", "2026-04-10", 24, 1, "2026-04-01", "2027-12-31", Some(21), r(21, 24)),
            ("annual_join", "2026-01-01", 12, 1, "2026-01-01", "2026-12-31", Some(12), r(12, 12)),
            ("annual_join", "2026-12-31", 12, 1, "2026-12-01", "2026-12-31", Some(1), r(1, 12)),
            ("annual_join", "2026-06-30", 12, 7, "2026-06-01", "2026-06-30", Some(1), r(1, 12)),
            ("annual_join", "2026-07-01", 36, 7, "2026-07-01", "2029-06-30", Some(36), r(36, 36)),
            ("annual_join", "2024-02-29", 12, 3, "2024-02-01", "2024-02-29", Some(1), r(1, 12)),
            ("anniversary_renewal", "2026-12-31", 12, 0, "2027-01-01", "2027-12-31", None, ONE),
            ("anniversary_renewal", "2025-02-28", 12, 0, "2025-03-01", "2026-02-28", None, ONE),
            ("annual_renewal", "2026-06-30", 12, 1, "2026-07-01", "2026-12-31", Some(6), r(6, 12)),
            ("annual_renewal", "2026-12-31", 24, 1, "2027-01-01", "2028-12-31", Some(24), r(24,24)),
        ];
        for &(case, input, months, fiscal, begin, end, whole, scale) in rows {
            let row = format!("{case} {input} {months} months, fiscal start {fiscal}");
            // A blank fiscal start (anniversary rows) must not matter: try several.
            let fiscal_starts: &[u32] = if fiscal == 0 { &[1, 3, 7] } else { &[fiscal] };
            for &fs in fiscal_starts {
                let t = match case {
                    "anniversary_join" => join_term(d(input), months, Anniversary, fs),
                    "annual_join" => join_term(d(input), months, Annual, fs),
                    "anniversary_renewal" => {
                        renewal_term(Some(d(input)), d("1999-01-01"), months, Anniversary, fs)
                    }
                    "annual_renewal" => {
                        renewal_term(Some(d(input)), d("1999-01-01"), months, Annual, fs)
                    }
                    other => panic!("unknown case {other}"),
                };
                assert_term(&row, t, begin, end, whole, scale);
            }
        }
    }

    /// TERM-VECTORS.md "Rejoin window (J-4)", every row.
    #[test]
    fn j4_rejoin_window_vectors() {
        let rows = [
            ("2020-12-31", 5, "2021-04-10", true),
            ("2020-12-31", 3, "2021-04-10", false),
            ("2020-11-30", 3, "2021-02-28", true),
            ("2020-11-30", 3, "2021-03-01", false),
        ];
        for (paid, n, join, renewal) in rows {
            assert_eq!(
                rejoin_is_renewal(d(paid), n, d(join)),
                renewal,
                "paid through {paid}, n {n}, join {join}"
            );
        }
    }

    /// TERM-VECTORS.md "Expiry (L-1)", every row.
    #[test]
    fn l1_expiry_vectors() {
        let rows = [
            ("2026-06-30", 3, "2026-10-01", true),
            ("2026-07-31", 3, "2026-10-01", false),
            ("2026-06-30", 3, "2026-09-30", false),
            ("2026-11-30", 3, "2027-03-01", true),
        ];
        for (paid, grace, as_of, expired) in rows {
            assert_eq!(
                is_expired(d(paid), grace, d(as_of)),
                expired,
                "paid through {paid}, grace {grace}, as of {as_of}"
            );
        }
    }

    /// TERM-VECTORS.md "Amounts (T-3, T-4)", every row.
    #[test]
    fn t3_t4_conventions_amount_vectors() {
        let rows = [
            ("120.00", 10, 12, "100.00"),
            ("100.00", 9, 12, "75.00"),
            ("190.00", 21, 24, "166.25"),
            ("50.00", 1, 12, "4.17"),
            ("25.00", 1, 12, "2.08"),
            ("10.00", 7, 12, "5.83"),
            ("0.25", 1, 2, "0.13"),
            ("50.00", 24, 12, "100.00"),
            ("20.00", 36, 12, "60.00"),
            ("90.00", 12, 24, "45.00"),
        ];
        for (price, num, den, amount) in rows {
            assert_eq!(
                scale_amount(c(price), r(num, den)),
                c(amount),
                "{price} x {num}/{den}"
            );
        }
    }

    // ---- J-4 and L-1 beyond the vectors ------------------------------------------------------

    /// J-4's example both ways: inside the window the term continues from the old paid-through
    /// at full fee; outside it is a prorated join.
    #[test]
    fn j4_example_renewal_or_prorated_join() {
        let paid = d("2020-12-31");
        let join = d("2021-04-10");
        assert!(rejoin_is_renewal(paid, 5, join));
        let t = renewal_term(Some(paid), join, 12, BillingTime::Annual, 1);
        assert_term("n = 5", t, "2021-01-01", "2021-12-31", Some(12), r(12, 12));
        assert!(t.scale.is_one());

        assert!(!rejoin_is_renewal(paid, 3, join));
        let t = join_term(join, 12, BillingTime::Annual, 1);
        assert_term("n = 3", t, "2021-04-01", "2021-12-31", Some(9), r(9, 12));
    }

    #[test]
    fn j4_window_zero_means_never() {
        assert!(!rejoin_is_renewal(d("2020-12-31"), 0, d("2020-12-31")));
        assert!(!rejoin_is_renewal(d("2020-12-31"), 0, d("2020-06-01")));
    }

    #[test]
    fn l1_no_grace_expires_the_day_after_paid_through() {
        assert!(!is_expired(d("2026-06-30"), 0, d("2026-06-30")));
        assert!(is_expired(d("2026-06-30"), 0, d("2026-07-01")));
    }

    /// L-1: the cutoff date agrees with `is_expired` on every day around it, for month ends,
    /// Feb 29 and several grace periods.
    #[test]
    fn l1_cutoff_is_exactly_the_last_expired_paid_through() {
        for as_of in [
            "2026-10-01",
            "2026-09-30",
            "2027-03-01",
            "2024-02-29",
            "2024-03-01",
            "2025-03-31",
            "2024-05-31",
            "2026-01-01",
            "2026-12-31",
        ] {
            for grace in [0, 1, 3, 11, 12, 13] {
                let as_of = d(as_of);
                let cutoff = last_expired_paid_through(as_of, grace);
                assert!(is_expired(cutoff, grace, as_of), "{as_of} {grace} {cutoff}");
                let mut day = cutoff - chrono::Days::new(40);
                while day < cutoff + chrono::Days::new(40) {
                    assert_eq!(
                        is_expired(day, grace, as_of),
                        day <= cutoff,
                        "{as_of} {grace} {day}"
                    );
                    day = day.succ_opt().unwrap();
                }
            }
        }
        // TERM-VECTORS: 2026-06-30 + 3 months is before 2026-10-01; 2026-07-31 is not.
        assert_eq!(
            last_expired_paid_through(d("2026-10-01"), 3),
            d("2026-06-30")
        );
        assert_eq!(
            last_expired_paid_through(d("2027-03-01"), 3),
            d("2026-11-30")
        );
    }

    // ---- Conventions -------------------------------------------------------------------------

    #[test]
    fn conventions_add_months_clamps_to_month_end() {
        let rows = [
            ("2024-01-31", 1, "2024-02-29"),
            ("2023-01-31", 1, "2023-02-28"),
            ("2024-01-30", 1, "2024-02-29"),
            ("2024-01-29", 1, "2024-02-29"),
            ("2024-03-31", 1, "2024-04-30"),
            ("2024-02-29", 12, "2025-02-28"),
            ("2024-02-29", 48, "2028-02-29"),
            ("2025-12-31", 2, "2026-02-28"),
            ("2026-11-30", 3, "2027-02-28"),
            ("2026-01-15", 0, "2026-01-15"),
            ("2026-01-15", 25, "2028-02-15"),
        ];
        for (from, n, to) in rows {
            assert_eq!(add_months(d(from), n), d(to), "{from} + {n}");
        }
    }

    #[test]
    fn t7_add_months_with_negative_n() {
        let rows = [
            ("2024-03-31", -1, "2024-02-29"),
            ("2025-03-31", -1, "2025-02-28"),
            ("2024-05-31", -1, "2024-04-30"),
            ("2024-01-15", -1, "2023-12-15"),
            ("2024-01-15", -13, "2022-12-15"),
            ("2024-02-29", -12, "2023-02-28"),
            ("2024-02-29", -48, "2020-02-29"),
            ("2026-12-31", -10, "2026-02-28"),
        ];
        for (from, n, to) in rows {
            assert_eq!(add_months(d(from), n), d(to), "{from} {n}");
        }
        // Round trips are not identities once a day is clamped.
        assert_eq!(
            add_months(add_months(d("2024-01-31"), 1), -1),
            d("2024-01-29")
        );
    }

    #[test]
    fn conventions_date_arithmetic_saturates_at_the_range_ends() {
        assert_eq!(add_months(NaiveDate::MAX, 1), NaiveDate::MAX);
        assert_eq!(add_months(NaiveDate::MIN, -1), NaiveDate::MIN);
        assert_eq!(add_months(d("2024-01-31"), i32::MAX), NaiveDate::MAX);
        assert_eq!(add_months(d("2024-01-31"), i32::MIN), NaiveDate::MIN);
        assert_eq!(anniversary(NaiveDate::MAX, 12), NaiveDate::MAX);
        assert_eq!(term_end(NaiveDate::MAX, 12), NaiveDate::MAX);
        assert_eq!(
            fiscal_year_end_on_or_before(NaiveDate::MIN, 7),
            NaiveDate::MIN
        );
        let t = renewal_term(
            Some(NaiveDate::MAX),
            d("2026-01-01"),
            12,
            BillingTime::Annual,
            1,
        );
        assert!(t.begin <= t.end);
        let t = renewal_term(
            Some(NaiveDate::MAX),
            d("2026-01-01"),
            12,
            BillingTime::Anniversary,
            1,
        );
        assert_eq!(t.begin, NaiveDate::MAX);
    }

    #[test]
    fn conventions_anniversary_moves_a_missing_day_to_the_next_first() {
        let rows = [
            ("2024-01-31", 1, "2024-03-01"),
            ("2024-01-30", 1, "2024-03-01"),
            ("2024-01-29", 1, "2024-02-29"),
            ("2025-01-29", 1, "2025-03-01"),
            ("2024-02-29", 12, "2025-03-01"),
            ("2024-02-29", 48, "2028-02-29"),
            ("2024-03-31", 1, "2024-05-01"),
            ("2024-08-31", 1, "2024-10-01"),
            ("2024-12-31", 12, "2025-12-31"),
            ("2024-12-15", 1, "2025-01-15"),
            ("2024-11-30", 3, "2025-03-01"),
        ];
        for (begin, months, to) in rows {
            assert_eq!(anniversary(d(begin), months), d(to), "{begin} + {months}");
        }
    }

    #[test]
    fn conventions_term_end_examples() {
        assert_eq!(term_end(d("2024-02-29"), 12), d("2025-02-28"));
        assert_eq!(term_end(d("2024-01-31"), 1), d("2024-02-29"));
        assert_eq!(term_end(d("2024-01-31"), 12), d("2025-01-30"));
        assert_eq!(term_end(d("2026-01-01"), 12), d("2026-12-31"));
        assert_eq!(term_end(d("2026-03-15"), 0), d("2026-03-14"));
    }

    #[test]
    fn conventions_fiscal_year_end_on_or_before() {
        let rows = [
            ("2026-12-31", 1, "2026-12-31"),
            ("2026-12-30", 1, "2025-12-31"),
            ("2027-03-31", 1, "2026-12-31"),
            ("2027-08-31", 7, "2027-06-30"),
            ("2027-06-30", 7, "2027-06-30"),
            ("2027-06-29", 7, "2026-06-30"),
            ("2024-02-29", 3, "2024-02-29"),
            ("2024-02-28", 3, "2023-02-28"),
            ("2025-01-31", 3, "2024-02-29"),
            ("2025-03-01", 3, "2025-02-28"),
            ("2026-05-31", 12, "2025-11-30"),
            ("2026-12-01", 12, "2026-11-30"),
        ];
        for (date, fs, end) in rows {
            assert_eq!(
                fiscal_year_end_on_or_before(d(date), fs),
                d(end),
                "{date}, fiscal start {fs}"
            );
        }
        // Out-of-range start months are clamped (settings reject them, T-1).
        assert_eq!(
            fiscal_year_end_on_or_before(d("2026-06-15"), 0),
            d("2025-12-31")
        );
        assert_eq!(
            fiscal_year_end_on_or_before(d("2026-06-15"), 13),
            d("2025-11-30")
        );
    }

    // ---- Ratio -------------------------------------------------------------------------------

    #[test]
    fn conventions_ratio_equality_is_by_value_and_mul_is_exact() {
        assert_eq!(r(12, 12), Ratio::ONE);
        assert_eq!(r(9, 12), r(3, 4));
        assert_ne!(r(9, 12), r(10, 12));
        assert!(r(36, 36).is_one());
        assert!(!r(21, 24).is_one());
        assert_eq!(r(9, 12).reduced(), Ratio { num: 3, den: 4 });
        assert_eq!(r(24, 12) * r(21, 24), r(21, 12));
        let product = r(24, 12) * r(21, 24);
        assert_eq!((product.num, product.den), (7, 4));
        assert_eq!(r(12, 24) * r(6, 12), r(1, 4));
        assert_eq!(Ratio::ONE * r(9, 12), r(9, 12));
        assert_eq!(r(9, 12).to_string(), "9/12");
    }

    // ---- Amounts -----------------------------------------------------------------------------

    #[test]
    fn t7_conventions_scale_amount_rounds_halves_away_from_zero_both_signs() {
        let rows = [
            (25, 1, 2, 13),
            (-25, 1, 2, -13),
            (5, 1, 2, 3),
            (-5, 1, 2, -3),
            (1, 1, 2, 1),
            (-1, 1, 2, -1),
            (15, 1, 6, 3),
            (-15, 1, 6, -3),
            (14, 1, 6, 2),
            (-14, 1, 6, -2),
            (-5000, 1, 12, -417),
            (-2500, 1, 12, -208),
            (0, 7, 12, 0),
            (12345, 12, 12, 12345),
            (12345, 0, 12, 0),
        ];
        for (cents, num, den, expected) in rows {
            assert_eq!(
                scale_amount(cents, r(num, den)),
                expected,
                "{cents} x {num}/{den}"
            );
        }
    }

    #[test]
    fn conventions_scale_amount_zero_denominator_and_saturation() {
        assert_eq!(scale_amount(12345, r(7, 0)), 12345);
        assert_eq!(scale_amount(i64::MAX, r(2, 1)), i64::MAX);
        assert_eq!(scale_amount(i64::MIN, r(2, 1)), i64::MIN);
        assert_eq!(scale_amount(i64::MAX, r(u32::MAX, u32::MAX)), i64::MAX);
    }

    #[test]
    fn t4_line_ratio_scales_by_term_length_over_span() {
        assert_eq!(line_ratio(ProductType::Subscription, 12, 24), r(24, 12));
        assert_eq!(line_ratio(ProductType::Dues, 24, 24), Ratio::ONE);
        assert_eq!(line_ratio(ProductType::Chapter, 12, 36), r(3, 1));
        assert_eq!(line_ratio(ProductType::Section, 24, 12), r(1, 2));
        assert_eq!(line_ratio(ProductType::Miscellaneous, 12, 24), Ratio::ONE);
        assert_eq!(line_ratio(ProductType::Voluntary, 12, 36), Ratio::ONE);
        assert_eq!(line_ratio(ProductType::Subscription, 0, 24), Ratio::ONE);
        // E-3: a 12-month journal on the same invoice as AM_2 costs twice its price.
        assert_eq!(
            scale_amount(c("50.00"), line_ratio(ProductType::Subscription, 12, 24)),
            c("100.00")
        );
    }

    /// T-3, T-4: each product type under a 12-month annual join prorated 9/12.
    #[test]
    fn t7_t3_t4_line_amount_each_type_12_month_prorated() {
        let term = join_term(d("2026-04-10"), 12, BillingTime::Annual, 1);
        assert_eq!(term.scale, r(9, 12));
        let rows = [
            (ProductType::Dues, "100.00", "75.00"),
            (ProductType::Chapter, "100.00", "75.00"),
            (ProductType::Section, "100.00", "75.00"),
            (ProductType::Subscription, "100.00", "75.00"),
            (ProductType::Miscellaneous, "100.00", "100.00"),
            (ProductType::Voluntary, "100.00", "100.00"),
        ];
        for (ty, price, amount) in rows {
            assert_eq!(
                line_amount(c(price), ty, 12, &term, 12),
                c(amount),
                "{ty:?}"
            );
        }
    }

    /// T-3, T-4: each product type under a 24-month annual join prorated 21/24, with the 12-month
    /// add-ons doubled by the 24-month term.
    #[test]
    fn t7_t3_t4_line_amount_each_type_24_month_prorated() {
        let term = join_term(d("2026-04-10"), 24, BillingTime::Annual, 1);
        assert_eq!(term.scale, r(21, 24));
        let rows = [
            (ProductType::Dues, 24, "190.00", "166.25"),
            (ProductType::Chapter, 12, "10.00", "17.50"),
            (ProductType::Section, 12, "25.00", "43.75"),
            (ProductType::Subscription, 12, "50.00", "87.50"),
            (ProductType::Miscellaneous, 12, "30.00", "30.00"),
            (ProductType::Voluntary, 12, "20.00", "20.00"),
        ];
        for (ty, span, price, amount) in rows {
            assert_eq!(
                line_amount(c(price), ty, span, &term, 24),
                c(amount),
                "{ty:?}"
            );
        }
    }

    /// T-4: anniversary terms pay full price; add-ons still follow the term length.
    #[test]
    fn t7_t4_line_amount_each_type_anniversary_12_and_24_months() {
        for months in [12, 24] {
            let term = join_term(d("2026-04-10"), months, BillingTime::Anniversary, 1);
            assert!(term.scale.is_one());
            let factor = i64::from(months / 12);
            for &ty in ProductType::ALL {
                let expected = if is_scaled(ty) { 5000 * factor } else { 5000 };
                assert_eq!(
                    line_amount(5000, ty, 12, &term, months),
                    expected,
                    "{ty:?} {months}"
                );
            }
        }
    }

    /// T-5: an annual renewal not yet aligned to the fiscal year prorates the scaled lines only.
    #[test]
    fn t5_line_amount_shortened_annual_renewal() {
        let term = renewal_term(
            Some(d("2026-06-30")),
            d("2026-06-01"),
            12,
            BillingTime::Annual,
            1,
        );
        assert_eq!(term.scale, r(6, 12));
        assert_eq!(
            line_amount(c("100.00"), ProductType::Dues, 12, &term, 12),
            c("50.00")
        );
        assert_eq!(
            line_amount(c("100.00"), ProductType::Voluntary, 12, &term, 12),
            c("100.00")
        );
    }

    /// Conventions: the line ratio and the proration are multiplied first and rounded once.
    #[test]
    fn t3_t4_conventions_line_amount_rounds_once_per_line() {
        let term = join_term(d("2026-07-10"), 12, BillingTime::Annual, 1);
        assert_term(
            "july join",
            term,
            "2026-07-01",
            "2026-12-31",
            Some(6),
            r(6, 12),
        );
        // 0.25 x 12/24 x 6/12 = 0.0625 -> 0.06; rounding each step would give 0.13 -> 0.07.
        assert_eq!(line_amount(25, ProductType::Dues, 24, &term, 12), 6);
        assert_eq!(scale_amount(scale_amount(25, r(12, 24)), r(6, 12)), 7);
        assert_eq!(scale_amount(25, r(12, 24) * r(6, 12)), 6);
        // Credits round away from zero as well.
        assert_eq!(line_amount(-25, ProductType::Dues, 24, &term, 12), -6);
        assert_eq!(line_amount(-2500, ProductType::Dues, 12, &term, 12), -1250);
    }

    // ---- T-2 and T-6 -------------------------------------------------------------------------

    #[test]
    fn t2_join_term_length_is_the_primary_span_with_the_cycle_option() {
        assert_eq!(join_term_length(true, 36, 12), 36);
        assert_eq!(join_term_length(true, 24, 12), 24);
        assert_eq!(join_term_length(false, 36, 12), 12);
        assert_eq!(join_term_length(false, 36, 6), 6);
        assert_eq!(join_term_length(true, 0, 12), 12);
    }

    #[test]
    fn t2_renewal_term_length_is_renew_months_or_the_standard_interval() {
        assert_eq!(renewal_term_length(true, Some(36), 12), 36);
        assert_eq!(renewal_term_length(true, Some(12), 24), 12);
        assert_eq!(renewal_term_length(true, None, 12), 12);
        assert_eq!(renewal_term_length(true, None, 24), 24);
        assert_eq!(renewal_term_length(true, Some(0), 12), 12);
        assert_eq!(renewal_term_length(false, Some(36), 12), 12);
        assert_eq!(renewal_term_length(false, None, 6), 6);
        assert_eq!(renewal_term_length(false, None, 0), 12);
    }

    fn am_family() -> Vec<(String, u32, i64)> {
        vec![
            ("AM_1".to_string(), 12, c("100.00")),
            ("AM_2".to_string(), 24, c("190.00")),
            ("AM_3".to_string(), 36, c("270.00")),
        ]
    }

    #[test]
    fn t6_renew_months_price_uses_the_family_product_of_the_new_length() {
        let family = am_family();
        let p = renew_months_price(&family, "AM_3", 12).unwrap();
        assert_eq!(p.price_product, "AM_1");
        assert!(p.ratio.is_one());
        assert_eq!(p.amount_cents, c("100.00"));

        let p = renew_months_price(&family, "AM_1", 24).unwrap();
        assert_eq!(p.price_product, "AM_2");
        assert_eq!(p.amount_cents, c("190.00"));

        let p = renew_months_price(&family, "AM_3", 36).unwrap();
        assert_eq!(p.price_product, "AM_3");
        assert_eq!(p.amount_cents, c("270.00"));
    }

    #[test]
    fn t6_renew_months_price_scales_the_current_product_without_a_match() {
        let family = am_family();
        let p = renew_months_price(&family, "AM_3", 6).unwrap();
        assert_eq!(p.price_product, "AM_3");
        assert_eq!((p.ratio.num, p.ratio.den), (6, 36));
        assert_eq!(p.amount_cents, c("45.00"));

        let p = renew_months_price(&family, "AM_1", 48).unwrap();
        assert_eq!(p.price_product, "AM_1");
        assert_eq!(p.ratio, r(4, 1));
        assert_eq!(p.amount_cents, c("400.00"));
        // The scaled price is what T-4 would give the primary line under that term length.
        assert_eq!(p.ratio, line_ratio(ProductType::Dues, 12, 48));
    }

    #[test]
    fn t6_renew_months_price_edge_cases() {
        let mut family = am_family();
        // Unknown current product and no family product of the new length: nothing to price.
        assert_eq!(renew_months_price(&family, "XX", 6), None);
        assert_eq!(renew_months_price(&[], "AM_1", 12), None);
        // Unknown current product, but an exact match exists.
        assert_eq!(
            renew_months_price(&family, "XX", 24).map(|p| p.price_product),
            Some("AM_2".to_string())
        );
        // Two products of the new span: the current one wins, else the first listed.
        family.push(("AM_1B".to_string(), 12, c("90.00")));
        let p = renew_months_price(&family, "AM_1B", 12).unwrap();
        assert_eq!(
            (p.price_product.as_str(), p.amount_cents),
            ("AM_1B", c("90.00"))
        );
        let p = renew_months_price(&family, "AM_3", 12).unwrap();
        assert_eq!(p.price_product, "AM_1");
    }

    // ---- T-3 and T-5 beyond the vectors ------------------------------------------------------

    #[test]
    fn t3_annual_join_in_january_fiscal_year_runs_to_december() {
        let t = join_term(d("2026-04-10"), 12, BillingTime::Annual, 1);
        assert_term("12", t, "2026-04-01", "2026-12-31", Some(9), r(9, 12));
        let t = join_term(d("2026-04-10"), 24, BillingTime::Annual, 1);
        assert_term("24", t, "2026-04-01", "2027-12-31", Some(21), r(21, 24));
    }

    #[test]
    fn t5_renewal_without_paid_through_begins_on_the_effective_date() {
        let t = renewal_term(None, d("2026-03-15"), 12, BillingTime::Anniversary, 1);
        assert_term(
            "anniversary",
            t,
            "2026-03-15",
            "2027-03-14",
            None,
            Ratio::ONE,
        );
        let t = renewal_term(None, d("2026-01-01"), 12, BillingTime::Annual, 1);
        assert_term(
            "annual aligned",
            t,
            "2026-01-01",
            "2026-12-31",
            Some(12),
            r(12, 12),
        );
        let t = renewal_term(None, d("2026-10-01"), 12, BillingTime::Annual, 1);
        assert_term(
            "annual shortened",
            t,
            "2026-10-01",
            "2026-12-31",
            Some(3),
            r(3, 12),
        );
    }

    /// T-5: a mid-month begin counts its first month whole, as the join month does in T-3.
    #[test]
    fn t5_annual_renewal_from_mid_month_counts_the_first_month() {
        let t = renewal_term(
            Some(d("2026-06-14")),
            d("2026-06-01"),
            12,
            BillingTime::Annual,
            1,
        );
        assert_term("mid june", t, "2026-06-15", "2026-12-31", Some(7), r(7, 12));
        let t = renewal_term(
            Some(d("2026-12-14")),
            d("2026-12-01"),
            12,
            BillingTime::Annual,
            1,
        );
        assert_term(
            "mid december",
            t,
            "2026-12-15",
            "2026-12-31",
            Some(1),
            r(1, 12),
        );
    }

    #[test]
    fn t3_t5_zero_months_is_treated_as_one() {
        let t = join_term(d("2026-03-15"), 0, BillingTime::Annual, 1);
        assert_term("join", t, "2026-03-15", "2026-04-14", None, Ratio::ONE);
        let t = renewal_term(
            Some(d("2026-03-14")),
            d("2026-03-01"),
            0,
            BillingTime::Anniversary,
            1,
        );
        assert_term("renewal", t, "2026-03-15", "2026-04-14", None, Ratio::ONE);
    }

    // ---- T-7 edge cases ----------------------------------------------------------------------

    #[test]
    fn t7_anniversary_joins_on_the_29th_30th_31st() {
        use BillingTime::Anniversary;
        let rows = [
            ("2024-01-29", 1, "2024-02-28"),
            ("2024-01-30", 1, "2024-02-29"),
            ("2024-01-31", 1, "2024-02-29"),
            ("2025-01-29", 1, "2025-02-28"),
            ("2025-01-30", 1, "2025-02-28"),
            ("2025-01-31", 1, "2025-02-28"),
            ("2025-03-31", 6, "2025-09-30"),
            ("2025-05-31", 12, "2026-05-30"),
            ("2025-08-30", 12, "2026-08-29"),
            ("2025-10-29", 4, "2026-02-28"),
            ("2027-10-29", 4, "2028-02-28"),
            ("2027-10-30", 4, "2028-02-29"),
        ];
        for (join, months, end) in rows {
            let t = join_term(d(join), months, Anniversary, 1);
            assert_term(
                &format!("{join} + {months}"),
                t,
                join,
                end,
                None,
                Ratio::ONE,
            );
        }
    }

    #[test]
    fn t7_annual_joins_on_the_29th_30th_31st() {
        use BillingTime::Annual;
        let rows = [
            ("2026-01-29", 1, "2026-01-01", "2026-12-31", 12),
            ("2026-01-30", 1, "2026-01-01", "2026-12-31", 12),
            ("2026-01-31", 1, "2026-01-01", "2026-12-31", 12),
            ("2026-05-29", 7, "2026-05-01", "2026-06-30", 2),
            ("2026-05-30", 7, "2026-05-01", "2026-06-30", 2),
            ("2026-05-31", 7, "2026-05-01", "2026-06-30", 2),
            ("2026-08-31", 1, "2026-08-01", "2026-12-31", 5),
            ("2026-10-31", 3, "2026-10-01", "2027-02-28", 5),
        ];
        for (join, fs, begin, end, whole) in rows {
            let t = join_term(d(join), 12, Annual, fs);
            assert_term(
                &format!("{join} fs {fs}"),
                t,
                begin,
                end,
                Some(whole),
                r(whole, 12),
            );
        }
    }

    #[test]
    fn t7_feb_29_joins() {
        let t = join_term(d("2024-02-29"), 12, BillingTime::Anniversary, 1);
        assert_term(
            "anniversary 12",
            t,
            "2024-02-29",
            "2025-02-28",
            None,
            Ratio::ONE,
        );
        let t = join_term(d("2024-02-29"), 48, BillingTime::Anniversary, 1);
        assert_term(
            "anniversary 48",
            t,
            "2024-02-29",
            "2028-02-28",
            None,
            Ratio::ONE,
        );
        let t = join_term(d("2024-02-29"), 1, BillingTime::Anniversary, 1);
        assert_term(
            "anniversary 1",
            t,
            "2024-02-29",
            "2024-03-28",
            None,
            Ratio::ONE,
        );
        let t = join_term(d("2024-02-29"), 12, BillingTime::Annual, 1);
        assert_term(
            "annual jan",
            t,
            "2024-02-01",
            "2024-12-31",
            Some(11),
            r(11, 12),
        );
        let t = join_term(d("2024-02-29"), 12, BillingTime::Annual, 3);
        assert_term(
            "annual mar",
            t,
            "2024-02-01",
            "2024-02-29",
            Some(1),
            r(1, 12),
        );
    }

    #[test]
    fn t7_feb_29_renewals() {
        use BillingTime::{Anniversary, Annual};
        let x = d("2000-01-01");
        let t = renewal_term(Some(d("2024-02-28")), x, 12, Anniversary, 1);
        assert_term(
            "begins feb 29",
            t,
            "2024-02-29",
            "2025-02-28",
            None,
            Ratio::ONE,
        );
        let t = renewal_term(Some(d("2024-02-29")), x, 12, Anniversary, 1);
        assert_term(
            "paid through feb 29",
            t,
            "2024-03-01",
            "2025-02-28",
            None,
            Ratio::ONE,
        );
        let t = renewal_term(Some(d("2023-02-28")), x, 12, Anniversary, 1);
        assert_term(
            "into leap feb",
            t,
            "2023-03-01",
            "2024-02-29",
            None,
            Ratio::ONE,
        );
        let t = renewal_term(Some(d("2024-02-29")), x, 12, Annual, 3);
        assert_term(
            "annual march aligned",
            t,
            "2024-03-01",
            "2025-02-28",
            Some(12),
            r(12, 12),
        );
        let t = renewal_term(Some(d("2023-02-28")), x, 12, Annual, 3);
        assert_term(
            "annual march leap",
            t,
            "2023-03-01",
            "2024-02-29",
            Some(12),
            r(12, 12),
        );
        let t = renewal_term(Some(d("2024-02-28")), x, 12, Annual, 1);
        assert_term(
            "annual jan from feb 29",
            t,
            "2024-02-29",
            "2024-12-31",
            Some(11),
            r(11, 12),
        );
        // Feb 29 begin, fiscal year ending in February: the full term is already aligned.
        let t = renewal_term(Some(d("2024-02-28")), x, 12, Annual, 3);
        assert_term(
            "annual mar from feb 29",
            t,
            "2024-02-29",
            "2025-02-28",
            Some(12),
            r(12, 12),
        );
    }

    #[test]
    fn t7_fiscal_year_starting_in_july() {
        use BillingTime::Annual;
        let t = join_term(d("2026-07-15"), 12, Annual, 7);
        assert_term("july", t, "2026-07-01", "2027-06-30", Some(12), r(12, 12));
        let t = join_term(d("2027-01-20"), 12, Annual, 7);
        assert_term("january", t, "2027-01-01", "2027-06-30", Some(6), r(6, 12));
        let t = renewal_term(Some(d("2027-06-30")), d("2027-06-01"), 12, Annual, 7);
        assert_term(
            "aligned renewal",
            t,
            "2027-07-01",
            "2028-06-30",
            Some(12),
            r(12, 12),
        );
        let t = renewal_term(Some(d("2026-12-31")), d("2026-12-01"), 12, Annual, 7);
        assert_term(
            "unaligned renewal",
            t,
            "2027-01-01",
            "2027-06-30",
            Some(6),
            r(6, 12),
        );
    }

    #[test]
    fn t7_fiscal_year_starting_in_march() {
        use BillingTime::Annual;
        let t = join_term(d("2025-06-15"), 12, Annual, 3);
        assert_term(
            "june 2025",
            t,
            "2025-06-01",
            "2026-02-28",
            Some(9),
            r(9, 12),
        );
        let t = join_term(d("2023-06-15"), 12, Annual, 3);
        assert_term(
            "june 2023",
            t,
            "2023-06-01",
            "2024-02-29",
            Some(9),
            r(9, 12),
        );
        let t = join_term(d("2025-03-31"), 12, Annual, 3);
        assert_term("march", t, "2025-03-01", "2026-02-28", Some(12), r(12, 12));
        let t = join_term(d("2026-02-28"), 12, Annual, 3);
        assert_term("february", t, "2026-02-01", "2026-02-28", Some(1), r(1, 12));
        let t = renewal_term(Some(d("2026-02-28")), d("2026-02-01"), 12, Annual, 3);
        assert_term(
            "aligned renewal",
            t,
            "2026-03-01",
            "2027-02-28",
            Some(12),
            r(12, 12),
        );
    }

    #[test]
    fn t7_multi_year_terms_crossing_a_leap_year_anniversary() {
        use BillingTime::Anniversary;
        let rows = [
            ("2023-03-15", 24, "2025-03-14"),
            ("2023-02-28", 24, "2025-02-27"),
            ("2022-03-01", 36, "2025-02-28"),
            ("2023-03-01", 24, "2025-02-28"),
            ("2022-02-28", 24, "2024-02-27"),
            ("2022-03-31", 24, "2024-03-30"),
            ("2024-02-29", 24, "2026-02-28"),
            ("2024-02-29", 36, "2027-02-28"),
            ("2021-12-31", 36, "2024-12-30"),
        ];
        for (join, months, end) in rows {
            let t = join_term(d(join), months, Anniversary, 1);
            assert_term(
                &format!("join {join} + {months}"),
                t,
                join,
                end,
                None,
                Ratio::ONE,
            );
        }
        let t = renewal_term(Some(d("2022-02-28")), d("2000-01-01"), 24, Anniversary, 1);
        assert_term("renewal", t, "2022-03-01", "2024-02-29", None, Ratio::ONE);
    }

    #[test]
    fn t7_multi_year_terms_crossing_a_leap_year_annual() {
        use BillingTime::Annual;
        let t = join_term(d("2023-05-10"), 24, Annual, 1);
        assert_term("24 jan", t, "2023-05-01", "2024-12-31", Some(20), r(20, 24));
        let t = join_term(d("2023-03-20"), 36, Annual, 3);
        assert_term(
            "36 mar aligned",
            t,
            "2023-03-01",
            "2026-02-28",
            Some(36),
            r(36, 36),
        );
        let t = join_term(d("2023-09-20"), 36, Annual, 3);
        assert_term("36 mar", t, "2023-09-01", "2026-02-28", Some(30), r(30, 36));
        let t = join_term(d("2022-08-31"), 24, Annual, 3);
        assert_term(
            "24 mar leap end",
            t,
            "2022-08-01",
            "2024-02-29",
            Some(19),
            r(19, 24),
        );
        let t = renewal_term(Some(d("2023-12-31")), d("2000-01-01"), 24, Annual, 1);
        assert_term(
            "renew 24",
            t,
            "2024-01-01",
            "2025-12-31",
            Some(24),
            r(24, 24),
        );
        let t = renewal_term(Some(d("2023-06-30")), d("2000-01-01"), 36, Annual, 1);
        assert_term(
            "renew 36 shortened",
            t,
            "2023-07-01",
            "2025-12-31",
            Some(30),
            r(30, 36),
        );
    }

    #[test]
    fn t7_short_terms_under_annual_billing_fall_back_to_anniversary() {
        use BillingTime::Annual;
        let t = join_term(d("2026-04-10"), 1, Annual, 1);
        assert_term("1 month", t, "2026-04-10", "2026-05-09", None, Ratio::ONE);
        let t = join_term(d("2026-04-10"), 6, Annual, 1);
        assert_term("6 months", t, "2026-04-10", "2026-10-09", None, Ratio::ONE);
        let t = join_term(d("2026-08-31"), 6, Annual, 7);
        assert_term(
            "6 months from 31st",
            t,
            "2026-08-31",
            "2027-02-28",
            None,
            Ratio::ONE,
        );
        let t = join_term(d("2026-04-10"), 18, Annual, 1);
        assert_term("18 months", t, "2026-04-10", "2027-10-09", None, Ratio::ONE);
        let t = renewal_term(Some(d("2026-06-30")), d("2026-06-01"), 6, Annual, 1);
        assert_term("renew 6", t, "2026-07-01", "2026-12-31", None, Ratio::ONE);
        let t = renewal_term(Some(d("2026-06-15")), d("2026-06-01"), 1, Annual, 1);
        assert_term("renew 1", t, "2026-06-16", "2026-07-15", None, Ratio::ONE);
    }

    #[test]
    fn t7_renewal_where_paid_through_is_a_month_end() {
        use BillingTime::{Anniversary, Annual};
        let x = d("2000-01-01");
        let rows = [
            ("2026-01-31", 12, "2026-02-01", "2027-01-31"),
            ("2026-04-30", 1, "2026-05-01", "2026-05-31"),
            ("2026-02-28", 1, "2026-03-01", "2026-03-31"),
            ("2026-08-31", 6, "2026-09-01", "2027-02-28"),
            ("2027-01-31", 1, "2027-02-01", "2027-02-28"),
            ("2028-01-31", 1, "2028-02-01", "2028-02-29"),
        ];
        for (paid, months, begin, end) in rows {
            let t = renewal_term(Some(d(paid)), x, months, Anniversary, 1);
            assert_term(
                &format!("{paid} + {months}"),
                t,
                begin,
                end,
                None,
                Ratio::ONE,
            );
        }
        let t = renewal_term(Some(d("2026-03-31")), x, 12, Annual, 7);
        assert_term(
            "annual july",
            t,
            "2026-04-01",
            "2026-06-30",
            Some(3),
            r(3, 12),
        );
        let t = renewal_term(Some(d("2026-11-30")), x, 12, Annual, 1);
        assert_term(
            "annual january",
            t,
            "2026-12-01",
            "2026-12-31",
            Some(1),
            r(1, 12),
        );
    }
}
