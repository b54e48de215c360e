//! One askama template struct per kind of page. Every value from the database
//! reaches the HTML through askama's escaping; the only unescaped insert is
//! [`PlanCards`], which holds HTML askama itself rendered.

use std::fmt;

use askama::Template;
use whatever_database::rules::yearly_cost::{LABEL as YEARLY_LABEL, NOTE as YEARLY_NOTE};
use whatever_database::rules::zip;
use whatever_database::{Money, Plan, PlanSummary};

use super::assets::AssetUrls;
use super::format::{Dollars, eligible_ages, feature_label, feature_value};

/// What a page's ZIP code fields (the header search on every page, the
/// search form, the mail form) take, from the one ZIP rule: askama calls
/// these on whichever page it renders.
pub trait ZipField {
    /// The field's `pattern` attribute.
    fn zip_pattern(&self) -> &'static str {
        zip::INPUT_PATTERN
    }

    /// The field's `maxlength`.
    fn zip_len(&self) -> usize {
        zip::LEN
    }
}

impl<T: Template> ZipField for T {}

/// `index.html`.
#[derive(Template)]
#[template(path = "index.html")]
pub struct HomePage<'a> {
    /// Hashed asset URLs.
    pub assets: &'a AssetUrls,
}

/// `404.html`.
#[derive(Template)]
#[template(path = "404.html")]
pub struct NotFoundPage<'a> {
    /// Hashed asset URLs.
    pub assets: &'a AssetUrls,
}

/// `signin/index.html`.
#[derive(Template)]
#[template(path = "signin.html")]
pub struct SignInPage<'a> {
    /// Hashed asset URLs.
    pub assets: &'a AssetUrls,
}

/// `account/create/index.html`.
#[derive(Template)]
#[template(path = "account_create.html")]
pub struct CreateAccountPage<'a> {
    /// Hashed asset URLs.
    pub assets: &'a AssetUrls,
    /// The shortest password accepted, from the one rule the API applies.
    pub password_min_chars: usize,
}

/// `account/verify/index.html`: the page the verification link opens.
#[derive(Template)]
#[template(path = "account_verify.html")]
pub struct VerifyEmailPage<'a> {
    /// Hashed asset URLs.
    pub assets: &'a AssetUrls,
}

/// `account/reset/index.html`: asks for a reset link, or (opened from one)
/// takes the new password.
#[derive(Template)]
#[template(path = "account_reset.html")]
pub struct ResetPasswordPage<'a> {
    /// Hashed asset URLs.
    pub assets: &'a AssetUrls,
    /// The shortest password accepted, from the one rule the API applies.
    pub password_min_chars: usize,
}

/// `account/index.html`: the signed-in account's settings.
#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage<'a> {
    /// Hashed asset URLs.
    pub assets: &'a AssetUrls,
}

/// `my-plan/index.html`.
#[derive(Template)]
#[template(path = "my_plan.html")]
pub struct MyPlanPage<'a> {
    /// Hashed asset URLs.
    pub assets: &'a AssetUrls,
}

/// `compare/index.html`.
#[derive(Template)]
#[template(path = "compare.html")]
pub struct ComparePage<'a> {
    /// Hashed asset URLs.
    pub assets: &'a AssetUrls,
}

/// A plan's costs as they read on a page.
pub struct Costs {
    /// Monthly premium.
    pub premium: Dollars,
    /// Annual deductible.
    pub deductible: Dollars,
    /// Copay.
    pub copay: Dollars,
    /// 12 × premium + deductible, read with [`YEARLY_LABEL`] and [`YEARLY_NOTE`].
    pub yearly: Dollars,
    /// Who may join.
    pub ages: String,
}

impl Costs {
    /// The costs of one plan.
    pub fn of(plan: &PlanSummary) -> Self {
        Self {
            premium: Dollars(plan.avg_monthly_cost),
            deductible: Dollars(plan.annual_deductible),
            copay: Dollars(plan.avg_copay_amount),
            yearly: Dollars(plan.estimated_yearly_cost()),
            ages: eligible_ages(plan.min_age, plan.max_age),
        }
    }

    /// [`YEARLY_LABEL`], for templates.
    pub fn yearly_label(&self) -> &'static str {
        YEARLY_LABEL
    }

    /// [`YEARLY_NOTE`], for templates.
    pub fn yearly_note(&self) -> &'static str {
        YEARLY_NOTE
    }
}

/// One of the five stars a rating is drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Star {
    /// Filled.
    Full,
    /// Left half filled.
    Half,
    /// Outline only.
    Empty,
}

impl Star {
    /// Whether the whole star is filled.
    pub fn is_full(&self) -> bool {
        *self == Star::Full
    }

    /// Whether the left half only is filled.
    pub fn is_half(&self) -> bool {
        *self == Star::Half
    }
}

/// A plan's star rating (0 to 5, in tenths), from its `star_rating` feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StarRating {
    tenths: u8,
}

impl StarRating {
    /// The feature that holds the rating.
    pub const FEATURE: &'static str = "star_rating";

    /// Reads "3.5", "4" or "4.0"; anything else (a word, a value outside 0–5,
    /// more than one decimal) is no rating, so a card never draws a made-up one.
    pub fn parse(value: &str) -> Option<Self> {
        let (whole, tenth) = match value.trim().split_once('.') {
            Some((whole, tenth)) => (whole, tenth),
            None => (value.trim(), "0"),
        };
        let digit = |s: &str| match s.as_bytes() {
            [d @ b'0'..=b'9'] => Some(d - b'0'),
            _ => None,
        };
        let tenths = digit(whole)? * 10 + digit(tenth)?;
        (tenths <= 50).then_some(Self { tenths })
    }

    /// The rating of a plan, if its features hold a readable one.
    pub fn of(plan: &PlanSummary) -> Option<Self> {
        plan.features
            .get(Self::FEATURE)
            .and_then(|value| Self::parse(value))
    }

    /// The rating as a number.
    pub fn score(&self) -> StarScore {
        StarScore {
            tenths: self.tenths,
        }
    }

    /// The five stars: full up to the rating, a half star for a rating at
    /// least half way to the next, empty after.
    pub fn stars(&self) -> [Star; 5] {
        std::array::from_fn(|i| {
            let before = 10 * i as u8;
            if self.tenths >= before + 10 {
                Star::Full
            } else if self.tenths >= before + 5 {
                Star::Half
            } else {
                Star::Empty
            }
        })
    }
}

/// A rating as a number, "3.5" or "4": beside the drawn stars, which the card
/// reads aloud as "3.5 out of 5 stars".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StarScore {
    tenths: u8,
}

impl fmt::Display for StarScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, tenth) = (self.tenths / 10, self.tenths % 10);
        if tenth == 0 {
            write!(f, "{whole}")
        } else {
            write!(f, "{whole}.{tenth}")
        }
    }
}

/// One feature, labelled for reading.
pub struct Feature<'a> {
    /// "Mail order pharmacy".
    pub label: String,
    /// The value, booleans as Yes/No.
    pub value: &'a str,
}

/// Every feature of a plan, sorted by key.
pub fn features(plan: &PlanSummary) -> Vec<Feature<'_>> {
    plan.features
        .iter()
        .map(|(key, value)| Feature {
            label: feature_label(key),
            value: feature_value(value),
        })
        .collect()
}

/// One plan in a zip's list: rendered once per plan, reused on every zip page
/// that lists it. It holds only what decides between plans; every feature is
/// on the plan's own page.
#[derive(Template)]
#[template(path = "plan_card.html")]
pub struct PlanCard<'a> {
    /// The plan.
    pub plan: &'a PlanSummary,
    /// Its costs.
    pub costs: Costs,
    /// Its star rating, if it has a readable one.
    pub rating: Option<StarRating>,
}

impl<'a> PlanCard<'a> {
    /// The card of one plan.
    pub fn new(plan: &'a PlanSummary) -> Self {
        Self {
            plan,
            costs: Costs::of(plan),
            rating: StarRating::of(plan),
        }
    }
}

/// Pre-rendered plan cards written in a given order.
pub struct PlanCards<'a> {
    /// Card HTML of every plan, by plan index.
    pub cards: &'a [String],
    /// Which cards to write, in order.
    pub order: &'a [u32],
}

impl fmt::Display for PlanCards<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &i in self.order {
            f.write_str(&self.cards[i as usize])?;
        }
        Ok(())
    }
}

// The cards are askama output, escaped when they were rendered; escaping them
// again would show the markup as text.
impl askama::filters::HtmlSafe for PlanCards<'_> {}

/// `zip/{zip}/index.html`.
#[derive(Template)]
#[template(path = "zip.html")]
pub struct ZipPage<'a> {
    /// Hashed asset URLs.
    pub assets: &'a AssetUrls,
    /// Five digits.
    pub zip: &'a str,
    /// "24 plans".
    pub count: String,
    /// The plans, lowest premiums and deductible for the year first.
    pub cards: PlanCards<'a>,
}

impl ZipPage<'_> {
    /// [`YEARLY_LABEL`], heading the column of the cards' yearly figures.
    pub fn yearly_label(&self) -> &'static str {
        YEARLY_LABEL
    }
}

/// `plans/{plan_id}/index.html`.
#[derive(Template)]
#[template(path = "plan.html")]
pub struct PlanPage<'a> {
    /// Hashed asset URLs.
    pub assets: &'a AssetUrls,
    /// The plan.
    pub plan: &'a Plan,
    /// Its costs.
    pub costs: Costs,
    /// Its features.
    pub features: Vec<Feature<'a>>,
    /// Where "Enroll in this plan" goes.
    pub enroll_url: String,
    /// Options of the mail form's state list.
    pub states: &'static [(&'static str, &'static str)],
}

/// The default order of a zip's list: lowest premiums and deductible for the
/// year, then plan id.
pub fn yearly_cost_key(plan: &PlanSummary) -> (Money, &str) {
    (plan.estimated_yearly_cost(), plan.plan_id.as_str())
}

/// The places a mailing address can be in, for the mail form.
pub use whatever_database::rules::states::STATES;

#[cfg(test)]
mod tests {
    use super::*;
    use Star::{Empty, Full, Half};

    #[test]
    fn ratings_read_as_tenths_or_not_at_all() {
        assert_eq!(StarRating::parse("3.5"), Some(StarRating { tenths: 35 }));
        assert_eq!(StarRating::parse("4"), Some(StarRating { tenths: 40 }));
        assert_eq!(StarRating::parse(" 5.0 "), Some(StarRating { tenths: 50 }));
        assert_eq!(StarRating::parse("0.0"), Some(StarRating { tenths: 0 }));
        for bad in [
            "5.5", "6", "3.25", "-1", "", ".5", "3.", "four", "3,5", "NaN",
        ] {
            assert_eq!(StarRating::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn stars_fill_up_to_the_rating_with_a_half_star() {
        let stars = |v| StarRating::parse(v).unwrap().stars();
        assert_eq!(stars("3.5"), [Full, Full, Full, Half, Empty]);
        assert_eq!(stars("3.4"), [Full, Full, Full, Empty, Empty]);
        assert_eq!(stars("3.9"), [Full, Full, Full, Half, Empty]);
        assert_eq!(stars("5"), [Full; 5]);
        assert_eq!(stars("0.5"), [Half, Empty, Empty, Empty, Empty]);
        assert_eq!(stars("0"), [Empty; 5]);
    }

    #[test]
    fn scores_read_as_tenths_only_when_there_are_some() {
        let score = |v| StarRating::parse(v).unwrap().score().to_string();
        assert_eq!(score("3.5"), "3.5");
        assert_eq!(score("4.0"), "4");
        assert_eq!(score("1"), "1");
        assert_eq!(score("0.5"), "0.5");
    }
}
