//! One publish, from a staged site to a consistent bucket and CDN.
//!
//! The manifest is written twice. Before anything changes, every key about
//! to be uploaded or deleted is moved from `objects` to `pending`; after
//! uploads, deletions and invalidations are done, the manifest is replaced
//! by the new site. A publish killed at any point leaves the old pages
//! served (new objects go up before the pages linking to them, deletions go
//! last), and the next run sees the unfinished keys as pending: it uploads
//! or deletes them again and invalidates them, so it converges.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use futures::{StreamExt, TryStreamExt};
use indicatif::{ProgressBar, ProgressStyle};

use super::cdn::{Backoff, Cdn, invalidate_all};
use super::changes::{Changes, Limits, check, examples};
use super::invalidation;
use super::manifest::{MANIFEST_KEY, Manifest};
use super::stage::Staged;
use super::store::{MAX_KEYS_PER_DELETE, ObjectStore};
use crate::summary::Summary;
use crate::{Error, Result};

/// How a publish behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Safety limits on deletions.
    pub limits: Limits,
    /// Report what would change and touch nothing.
    pub dry_run: bool,
    /// Uploads in flight at once.
    pub concurrency: usize,
    /// Paths under one directory beyond which it is invalidated as `/dir/*`.
    pub wildcard_threshold: usize,
    /// Waiting while CloudFront is busy.
    pub backoff: Backoff,
}

/// `publish --max-delete-share` when not given: refuse to delete more than
/// a fifth of the live site in one publish.
pub const DEFAULT_MAX_DELETE_SHARE: f64 = 0.2;

/// `publish --concurrency` when not given.
pub const DEFAULT_CONCURRENCY: u16 = 64;

impl Default for Options {
    fn default() -> Self {
        Self {
            limits: Limits {
                max_delete_share: DEFAULT_MAX_DELETE_SHARE,
                allow_mass_delete: false,
            },
            dry_run: false,
            concurrency: usize::from(DEFAULT_CONCURRENCY),
            wildcard_threshold: 300,
            backoff: Backoff::default(),
        }
    }
}

/// Makes the bucket (and the CDN, when given) serve `staged`. Returns the
/// summary; `seconds` covers this call only.
pub async fn publish<S: ObjectStore, C: Cdn>(
    staged: &Staged,
    store: &S,
    cdn: Option<&C>,
    options: &Options,
) -> Result<Summary> {
    let started = Instant::now();
    let manifest = load_manifest(store).await?;
    let changes = Changes::diff(staged, &manifest);
    check(staged, &changes, options.limits)?;
    let changed_keys: Vec<&str> = changes
        .upload_keys()
        .chain(&changes.deletes)
        .map(String::as_str)
        .collect();
    let paths = invalidation::paths(changed_keys.iter().copied(), options.wildcard_threshold);
    let mut summary = Summary {
        rendered: staged.objects.len() as u64,
        unchanged: changes.unchanged,
        ..Summary::default()
    };

    if options.dry_run {
        report_dry_run(&changes, &paths);
        summary.seconds = started.elapsed().as_secs_f64();
        return Ok(summary);
    }
    if changes.is_empty() {
        tracing::info!(
            objects = staged.objects.len(),
            "the bucket already holds this site"
        );
        summary.seconds = started.elapsed().as_secs_f64();
        return Ok(summary);
    }

    let mut marked = manifest;
    for key in &changed_keys {
        marked.objects.remove(*key);
        marked.pending.insert((*key).to_owned());
    }
    store.put_manifest(marked.to_vec()).await?;

    upload(staged, store, &changes, options.concurrency).await?;
    for chunk in changes.deletes.chunks(MAX_KEYS_PER_DELETE) {
        store.delete(chunk).await?;
    }
    tracing::info!(
        uploaded = changes.upload_count(),
        deleted = changes.deletes.len(),
        "bucket updated"
    );

    match cdn {
        Some(cdn) if !paths.is_empty() => {
            invalidate_all(cdn, &paths, &run_id(), options.backoff).await?;
            tracing::info!(paths = paths.len(), "CloudFront invalidation started");
        }
        Some(_) => {}
        None => tracing::info!(
            paths = paths.len(),
            "no --distribution-id: CloudFront is not invalidated"
        ),
    }

    let mut done = Manifest::new();
    done.objects = staged
        .objects
        .iter()
        .map(|(key, object)| (key.clone(), object.sha256.clone()))
        .collect();
    store.put_manifest(done.to_vec()).await?;

    summary.uploaded = changes.upload_count() as u64;
    summary.deleted = changes.deletes.len() as u64;
    if cdn.is_some() {
        summary.invalidated_paths = paths;
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// The manifest, or, when it is missing or unreadable, one rebuilt from the
/// bucket: every listed object's hash is read back from the metadata it was
/// uploaded with, so what is unchanged stays unchanged; an object without
/// one is pending, re-uploaded if rendered and deleted if not.
async fn load_manifest<S: ObjectStore>(store: &S) -> Result<Manifest> {
    let problem = match store.get_manifest().await? {
        Some(bytes) => match Manifest::from_slice(&bytes) {
            Ok(manifest) => return Ok(manifest),
            Err(e) => e.to_string(),
        },
        None => format!("there is no {MANIFEST_KEY}"),
    };
    let listed = store.list().await?;
    tracing::warn!(
        problem,
        listed = listed.len(),
        "rebuilding the manifest from the objects' own hashes"
    );
    let hashes: Vec<(String, Option<String>)> = futures::stream::iter(listed)
        .map(|key| async move {
            let hash = store.stored_hash(&key).await?;
            Ok::<_, Error>((key, hash))
        })
        .buffer_unordered(METADATA_READS)
        .try_collect()
        .await?;
    let mut manifest = Manifest::new();
    for (key, hash) in hashes {
        match hash.filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())) {
            Some(hash) => {
                manifest.objects.insert(key, hash);
            }
            None => {
                manifest.pending.insert(key);
            }
        }
    }
    tracing::info!(
        known = manifest.objects.len(),
        pending = manifest.pending.len(),
        "manifest rebuilt"
    );
    Ok(manifest)
}

/// Object metadata reads in flight while a lost manifest is rebuilt.
const METADATA_READS: usize = 32;

/// Uploads phase by phase, each phase finished before the next starts.
async fn upload<S: ObjectStore>(
    staged: &Staged,
    store: &S,
    changes: &Changes,
    concurrency: usize,
) -> Result<()> {
    let bar = ProgressBar::new(changes.upload_count() as u64).with_style(
        ProgressStyle::with_template("uploading {bar:40} {pos}/{len} {per_sec} eta {eta}")
            .expect("the template is valid"),
    );
    let progress = &bar;
    for phase in &changes.uploads {
        futures::stream::iter(phase.iter().map(Ok::<_, Error>))
            .map_ok(|key| async move {
                store.put(key, &staged.objects[key]).await?;
                progress.inc(1);
                Ok(())
            })
            .try_buffer_unordered(concurrency.max(1))
            .try_collect::<()>()
            .await?;
    }
    bar.finish_and_clear();
    Ok(())
}

fn report_dry_run(changes: &Changes, paths: &[String]) {
    let uploads: Vec<String> = changes.upload_keys().cloned().collect();
    eprintln!("dry run: nothing was changed");
    eprintln!(
        "would upload {} objects: {}",
        uploads.len(),
        examples(&uploads)
    );
    eprintln!(
        "would delete {} objects: {}",
        changes.deletes.len(),
        examples(&changes.deletes)
    );
    eprintln!(
        "would invalidate {} paths: {}",
        paths.len(),
        examples(paths)
    );
    eprintln!("{} objects unchanged", changes.unchanged);
}

/// A caller reference unique to this run, so a retried call is not doubled.
fn run_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("publish-{nanos}-{}", std::process::id())
}
