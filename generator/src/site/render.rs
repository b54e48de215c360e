//! The pure, parallel half of a build: every page of a [`Snapshot`] rendered
//! on rayon threads and handed to a [`Sink`] as soon as it is ready, so the
//! site never sits in memory as a whole.

use std::sync::atomic::{AtomicU64, Ordering};

use askama::Template;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::value::RawValue;

use super::assets::{AssetUrls, Assets};
use super::drug_data;
use super::load::Snapshot;
use super::options::SiteOptions;
use super::pages::{
    AccountPage, ComparePage, Costs, CreateAccountPage, HomePage, MyPlanPage, NotFoundPage,
    PlanCard, PlanCards, PlanPage, ResetPasswordPage, STATES, SignInPage, VerifyEmailPage, ZipPage,
    features, yearly_cost_key,
};
use super::sink::Sink;
use crate::{Error, Result};

/// What a render produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderStats {
    /// Objects rendered (pages, JSON and assets).
    pub rendered: u64,
    /// Objects handed to the sink.
    pub written: u64,
    /// Bytes handed to the sink.
    pub bytes: u64,
    /// Plans with a page.
    pub plans: u64,
    /// Zip codes with a page.
    pub zips: u64,
    /// Rows of the snapshot left off the site (plans whose id breaks the
    /// plan-id rule, zip codes that are not five digits).
    pub skipped: u64,
}

/// `data/zip/{zip}.json`: the zip and its plans, sorted by plan id.
#[derive(Serialize)]
struct ZipData<'a> {
    zip: &'a str,
    plans: Vec<&'a RawValue>,
}

/// The head of `data/drugs/plans/{plan_id}.json`; the plan's drug terms follow.
#[derive(Serialize)]
struct PlanCosts<'a> {
    plan_id: &'a str,
    avg_monthly_cost: whatever_database::Money,
    annual_deductible: whatever_database::Money,
}

/// Work shared by every page, computed once per build.
struct Prepared<'a> {
    snapshot: &'a Snapshot,
    assets: Assets,
    /// Card HTML of each plan, by plan index.
    cards: Vec<String>,
    /// `PlanSummary` JSON of each plan, by plan index.
    summaries: Vec<Box<RawValue>>,
    /// Each plan's position in the default (cheapest first) order.
    rank: Vec<u32>,
}

/// Buffers one rayon thread reuses from page to page.
#[derive(Default)]
struct Scratch {
    html: String,
    json: Vec<u8>,
    order: Vec<u32>,
}

/// Counts what reaches the sink and moves the progress bar.
struct Writer<'a> {
    sink: &'a dyn Sink,
    progress: ProgressBar,
    written: AtomicU64,
    bytes: AtomicU64,
}

impl Writer<'_> {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        self.sink.put(key, bytes)?;
        self.written.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        self.progress.inc(1);
        Ok(())
    }
}

/// Renders the whole site into `sink`.
///
/// Objects arrive in an order that suits a publisher: assets first, then
/// plans, then zips, then the pages that link to zips (home, 404, ...), so
/// nothing is written before what it links to. Within a group, order varies
/// between runs; contents never do.
pub fn render(snapshot: &Snapshot, options: &SiteOptions, sink: &dyn Sink) -> Result<RenderStats> {
    let prepared = prepare(snapshot)?;
    let total = prepared.assets.files.len()
        + STATIC_PAGES
        + 3 * snapshot.plans.len()
        + 2 * snapshot.zips.len()
        + drug_data::file_count(&snapshot.drugs) as usize;
    let writer = Writer {
        sink,
        progress: progress_bar(total as u64),
        written: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
    };

    prepared
        .assets
        .files
        .par_iter()
        .try_for_each(|(key, bytes)| writer.put(key, bytes))?;
    drug_data::render(&snapshot.drugs, &|key, bytes| writer.put(key, bytes))?;
    (0..snapshot.plans.len())
        .into_par_iter()
        .try_for_each_init(Scratch::default, |scratch, i| {
            write_plan(&prepared, options, i, scratch, &writer)
        })?;
    (0..snapshot.zips.len())
        .into_par_iter()
        .with_min_len(16)
        .try_for_each_init(Scratch::default, |scratch, i| {
            write_zip(&prepared, i, scratch, &writer)
        })?;
    write_static_pages(&prepared.assets.urls, &writer)?;

    writer.progress.finish_and_clear();
    let written = writer.written.load(Ordering::Relaxed);
    Ok(RenderStats {
        rendered: total as u64,
        written,
        bytes: writer.bytes.load(Ordering::Relaxed),
        plans: snapshot.plans.len() as u64,
        zips: snapshot.zips.len() as u64,
        skipped: snapshot.skipped(),
    })
}

fn prepare(snapshot: &Snapshot) -> Result<Prepared<'_>> {
    let assets = Assets::collect()?;
    let (cards, summaries): (Vec<String>, Vec<Box<RawValue>>) = snapshot
        .plans
        .par_iter()
        .map(|plan| {
            let summary = &plan.summary;
            let card = PlanCard::new(summary)
                .render()
                .map_err(render_error(format!(
                    "the card of plan {}",
                    summary.plan_id
                )))?;
            let json = serde_json::to_string(summary)
                .and_then(RawValue::from_string)
                .map_err(json_error(format!("plan {}", summary.plan_id)))?;
            Ok((card, json))
        })
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .unzip();
    let mut by_cost: Vec<u32> = (0..snapshot.plans.len() as u32).collect();
    by_cost.sort_by(|&a, &b| {
        yearly_cost_key(&snapshot.plans[a as usize].summary)
            .cmp(&yearly_cost_key(&snapshot.plans[b as usize].summary))
    });
    let mut rank = vec![0u32; by_cost.len()];
    for (position, &plan) in by_cost.iter().enumerate() {
        rank[plan as usize] = position as u32;
    }
    Ok(Prepared {
        snapshot,
        assets,
        cards,
        summaries,
        rank,
    })
}

fn write_plan(
    prepared: &Prepared<'_>,
    options: &SiteOptions,
    i: usize,
    scratch: &mut Scratch,
    writer: &Writer<'_>,
) -> Result<()> {
    let plan = &prepared.snapshot.plans[i];
    let id = &plan.summary.plan_id;

    scratch.json.clear();
    serde_json::to_writer(&mut scratch.json, plan).map_err(json_error(format!("plan {id}")))?;
    let no_terms = drug_data::NO_TERMS;
    let terms = prepared.snapshot.drugs.plans.get(i).unwrap_or(&no_terms);
    drug_data::append_plan_terms(&mut scratch.json, terms)?;
    writer.put(&format!("data/plans/{id}.json"), &scratch.json)?;

    // What the estimate needs of the plan, and nothing else: a zip page
    // prices a drug list on all its plans with these, a third of the bytes
    // of the plan files.
    scratch.json.clear();
    serde_json::to_writer(
        &mut scratch.json,
        &PlanCosts {
            plan_id: id,
            avg_monthly_cost: plan.summary.avg_monthly_cost,
            annual_deductible: plan.summary.annual_deductible,
        },
    )
    .map_err(json_error(format!("plan {id}")))?;
    drug_data::append_plan_terms(&mut scratch.json, terms)?;
    writer.put(&format!("data/drugs/plans/{id}.json"), &scratch.json)?;

    let page = PlanPage {
        assets: &prepared.assets.urls,
        plan,
        costs: Costs::of(&plan.summary),
        features: features(&plan.summary),
        enroll_url: options.enroll_url(id),
        states: STATES,
    };
    let key = format!("plans/{id}/index.html");
    scratch.html.clear();
    page.render_into(&mut scratch.html)
        .map_err(render_error(key.clone()))?;
    writer.put(&key, scratch.html.as_bytes())
}

fn write_zip(
    prepared: &Prepared<'_>,
    i: usize,
    scratch: &mut Scratch,
    writer: &Writer<'_>,
) -> Result<()> {
    let zip = &prepared.snapshot.zips[i];

    let data = ZipData {
        zip: &zip.zip,
        plans: zip
            .plans
            .iter()
            .map(|&p| &*prepared.summaries[p as usize])
            .collect(),
    };
    scratch.json.clear();
    serde_json::to_writer(&mut scratch.json, &data)
        .map_err(json_error(format!("zip {}", zip.zip)))?;
    writer.put(&format!("data/zip/{}.json", zip.zip), &scratch.json)?;

    scratch.order.clear();
    scratch.order.extend_from_slice(&zip.plans);
    scratch
        .order
        .sort_unstable_by_key(|&p| prepared.rank[p as usize]);
    let page = ZipPage {
        assets: &prepared.assets.urls,
        zip: &zip.zip,
        count: super::format::plan_count(zip.plans.len()),
        cards: PlanCards {
            cards: &prepared.cards,
            order: &scratch.order,
        },
    };
    let key = format!("zip/{}/index.html", zip.zip);
    scratch.html.clear();
    page.render_into(&mut scratch.html)
        .map_err(render_error(key.clone()))?;
    writer.put(&key, scratch.html.as_bytes())
}

/// How many pages [`write_static_pages`] writes.
const STATIC_PAGES: usize = 9;

fn write_static_pages(assets: &AssetUrls, writer: &Writer<'_>) -> Result<()> {
    let pages: [(&str, &dyn DynRender); STATIC_PAGES] = [
        ("signin/index.html", &SignInPage { assets }),
        ("account/index.html", &AccountPage { assets }),
        (
            "account/create/index.html",
            &CreateAccountPage {
                assets,
                password_min_chars: whatever_database::rules::password::MIN_CHARS,
            },
        ),
        ("account/verify/index.html", &VerifyEmailPage { assets }),
        (
            "account/reset/index.html",
            &ResetPasswordPage {
                assets,
                password_min_chars: whatever_database::rules::password::MIN_CHARS,
            },
        ),
        ("my-plan/index.html", &MyPlanPage { assets }),
        ("compare/index.html", &ComparePage { assets }),
        ("404.html", &NotFoundPage { assets }),
        ("index.html", &HomePage { assets }),
    ];
    for (key, page) in pages {
        let html = page.render_page().map_err(render_error(key))?;
        writer.put(key, html.as_bytes())?;
    }
    Ok(())
}

/// Lets pages of different types sit in one list.
trait DynRender {
    fn render_page(&self) -> askama::Result<String>;
}

impl<T: Template> DynRender for T {
    fn render_page(&self) -> askama::Result<String> {
        self.render()
    }
}

fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} rendering [{bar:40}] {pos}/{len} files ({per_sec}, {eta} left)",
        )
        .expect("the progress template is valid")
        .progress_chars("=> "),
    );
    bar
}

fn render_error(page: impl Into<String>) -> impl FnOnce(askama::Error) -> Error {
    let page = page.into();
    move |source| Error::Render { page, source }
}

fn json_error(what: impl Into<String>) -> impl FnOnce(serde_json::Error) -> Error {
    let what = what.into();
    move |source| Error::Json { what, source }
}
