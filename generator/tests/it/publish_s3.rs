//! `publish` against a real S3 and CloudFront API (moto_server): what ends up
//! in the bucket, what is invalidated, and how a crashed publish is repaired.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::publish_support::{Aws, FakeSite};
use generator::publish::cdn::CloudFront;
use generator::publish::manifest::MANIFEST_KEY;
use generator::publish::stage::{StagedObject, stage_dir};
use generator::publish::store::{ObjectStore, S3Store};
use generator::publish::{Options, invalidation, publish};
use generator::summary::Summary;

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";
const PAGE_CACHE: &str = "public, max-age=300, s-maxage=31536000";
const ASSET_CACHE: &str = "public, max-age=31536000, immutable";

async fn publish_with<S: ObjectStore>(
    aws: &Aws,
    store: &S,
    distribution: Option<&str>,
    site: &FakeSite,
    options: &Options,
) -> generator::Result<Summary> {
    let dir = tempfile::tempdir().unwrap();
    site.write(dir.path());
    let staged = stage_dir(dir.path()).unwrap();
    let cdn = distribution.map(|id| CloudFront::new(aws.cloudfront.clone(), id));
    publish(&staged, store, cdn.as_ref(), options).await
}

async fn publish_site(
    aws: &Aws,
    bucket: &str,
    distribution: Option<&str>,
    site: &FakeSite,
) -> generator::Result<Summary> {
    let store = S3Store::new(aws.s3.clone(), bucket, "");
    publish_with(aws, &store, distribution, site, &Options::default()).await
}

/// The bucket holds exactly the site, byte for byte, with the right headers.
async fn assert_bucket_is(aws: &Aws, bucket: &str, prefix: &str, site: &FakeSite) {
    let mut stored = aws.contents(bucket, prefix).await;
    assert!(
        stored.remove(&format!("{prefix}{MANIFEST_KEY}")).is_some(),
        "the manifest is in the bucket"
    );
    let expected = site.objects();
    let stored_keys: BTreeSet<String> = stored
        .keys()
        .map(|k| k.strip_prefix(prefix).unwrap().to_owned())
        .collect();
    assert_eq!(stored_keys, expected.keys().cloned().collect());
    for (key, bytes) in expected {
        let object = &stored[&format!("{prefix}{key}")];
        assert!(object.bytes == bytes, "{key} differs from the build");
        let (content_type, cache_control) = match key.as_str() {
            k if k.starts_with("assets/") => ("text/css; charset=utf-8", ASSET_CACHE),
            k if k.ends_with(".json") => (JSON, PAGE_CACHE),
            _ => (HTML, PAGE_CACHE),
        };
        assert_eq!(object.content_type, content_type, "{key}");
        assert_eq!(object.cache_control, cache_control, "{key}");
        assert_eq!(object.sha256.len(), 64, "{key} has its hash as metadata");
    }
}

/// Keys whose bytes differ between two builds, including added and removed.
fn changed_keys(before: &FakeSite, after: &FakeSite) -> BTreeSet<String> {
    let (a, b) = (before.objects(), after.objects());
    a.keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

#[tokio::test]
async fn first_publish_uploads_everything_and_the_bucket_equals_the_build() {
    let aws = Aws::start().await;
    let bucket = aws.bucket("first-publish").await;
    let distribution = aws.distribution(&bucket).await;
    let site = FakeSite::sample(6, 4);

    let summary = publish_site(&aws, &bucket, Some(&distribution), &site)
        .await
        .unwrap();

    let count = site.objects().len() as u64;
    assert_eq!(summary.rendered, count);
    assert_eq!(summary.uploaded, count);
    assert_eq!((summary.deleted, summary.unchanged), (0, 0));
    assert_bucket_is(&aws, &bucket, "", &site).await;
}

#[tokio::test]
async fn publishing_the_same_build_again_does_nothing() {
    let aws = Aws::start().await;
    let bucket = aws.bucket("no-change").await;
    let distribution = aws.distribution(&bucket).await;
    let site = FakeSite::sample(6, 4);
    publish_site(&aws, &bucket, Some(&distribution), &site)
        .await
        .unwrap();
    let invalidations = aws.invalidations(&distribution).await.len();

    let summary = publish_site(&aws, &bucket, Some(&distribution), &site)
        .await
        .unwrap();

    assert_eq!((summary.uploaded, summary.deleted), (0, 0));
    assert_eq!(summary.unchanged, site.objects().len() as u64);
    assert!(summary.invalidated_paths.is_empty());
    assert_eq!(aws.invalidations(&distribution).await.len(), invalidations);
}

#[tokio::test]
async fn a_cost_change_uploads_and_invalidates_only_the_objects_that_changed() {
    let aws = Aws::start().await;
    let bucket = aws.bucket("cost-change").await;
    let distribution = aws.distribution(&bucket).await;
    let before = FakeSite::sample(6, 4);
    publish_site(&aws, &bucket, Some(&distribution), &before)
        .await
        .unwrap();
    let first_invalidations = aws.invalidations(&distribution).await;

    let mut after = before.clone();
    after.plans.get_mut("S5602-002-0").unwrap().0 += 1;
    let summary = publish_site(&aws, &bucket, Some(&distribution), &after)
        .await
        .unwrap();

    let changed = changed_keys(&before, &after);
    // The plan's page and JSON, and the page and JSON of its two zips.
    assert_eq!(changed.len(), 6, "{changed:?}");
    assert_eq!(summary.uploaded, changed.len() as u64);
    assert_eq!(summary.deleted, 0);
    let expected_paths = invalidation::paths(changed.iter().map(String::as_str), 300);
    assert!(expected_paths.contains(&"/plans/S5602-002-0/".to_owned()));
    assert!(expected_paths.contains(&"/data/plans/S5602-002-0.json".to_owned()));
    assert!(
        !expected_paths.contains(&"/".to_owned()),
        "the home page did not change"
    );
    assert_eq!(summary.invalidated_paths, expected_paths);
    let mut invalidations = aws.invalidations(&distribution).await;
    assert_eq!(invalidations.len(), first_invalidations.len() + 1);
    invalidations.retain(|paths| !first_invalidations.contains(paths));
    assert_eq!(invalidations, [expected_paths]);
    assert_bucket_is(&aws, &bucket, "", &after).await;
}

#[tokio::test]
async fn a_deactivated_plan_is_deleted_and_invalidated() {
    let aws = Aws::start().await;
    let bucket = aws.bucket("deactivated").await;
    let distribution = aws.distribution(&bucket).await;
    let before = FakeSite::sample(12, 4);
    publish_site(&aws, &bucket, Some(&distribution), &before)
        .await
        .unwrap();

    let mut after = before.clone();
    after.plans.remove("S5603-003-0");
    let summary = publish_site(&aws, &bucket, Some(&distribution), &after)
        .await
        .unwrap();

    assert_eq!(summary.deleted, 2, "the plan's page and JSON");
    assert_eq!(summary.uploaded, 4, "the pages and JSON of its two zips");
    assert!(
        summary
            .invalidated_paths
            .contains(&"/plans/S5603-003-0/index.html".to_owned())
    );
    assert_bucket_is(&aws, &bucket, "", &after).await;
}

#[tokio::test]
async fn a_build_without_plans_or_deleting_too_much_is_refused_and_changes_nothing() {
    let aws = Aws::start().await;
    let bucket = aws.bucket("refused").await;
    let site = FakeSite::sample(10, 3);
    publish_site(&aws, &bucket, None, &site).await.unwrap();
    let before = aws.contents(&bucket, "").await;

    let empty = FakeSite {
        plans: BTreeMap::new(),
    };
    let err = publish_site(&aws, &bucket, None, &empty)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no plans/"), "{err}");
    assert!(err.contains("--allow-mass-delete"), "{err}");

    let mut gutted = site.clone();
    gutted.plans.retain(|id, _| id.as_str() < "S5604");
    let err = publish_site(&aws, &bucket, None, &gutted)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("refusing to delete 12 of"), "{err}");
    assert_eq!(
        aws.contents(&bucket, "").await,
        before,
        "nothing was touched"
    );

    let mut allowed = Options::default();
    allowed.limits.allow_mass_delete = true;
    let store = S3Store::new(aws.s3.clone(), &bucket, "");
    let summary = publish_with(&aws, &store, None, &gutted, &allowed)
        .await
        .unwrap();
    assert_eq!(summary.deleted, 12);
    assert_bucket_is(&aws, &bucket, "", &gutted).await;
}

#[tokio::test]
async fn a_dry_run_touches_nothing() {
    let aws = Aws::start().await;
    let bucket = aws.bucket("dry-run").await;
    let distribution = aws.distribution(&bucket).await;
    let site = FakeSite::sample(6, 4);
    let options = Options {
        dry_run: true,
        ..Options::default()
    };
    let store = S3Store::new(aws.s3.clone(), &bucket, "");
    let summary = publish_with(&aws, &store, Some(&distribution), &site, &options)
        .await
        .unwrap();
    assert_eq!((summary.uploaded, summary.deleted), (0, 0));
    assert!(aws.contents(&bucket, "").await.is_empty());
    assert!(aws.invalidations(&distribution).await.is_empty());
}

#[tokio::test]
async fn a_prefix_keeps_the_site_and_its_manifest_under_it() {
    let aws = Aws::start().await;
    let bucket = aws.bucket("prefixed").await;
    let site = FakeSite::sample(4, 2);
    let store = S3Store::new(aws.s3.clone(), &bucket, "/preview/");
    publish_with(&aws, &store, None, &site, &Options::default())
        .await
        .unwrap();
    assert_bucket_is(&aws, &bucket, "preview/", &site).await;
    let again = publish_with(&aws, &store, None, &site, &Options::default())
        .await
        .unwrap();
    assert_eq!(again.uploaded, 0);
}

#[tokio::test]
async fn a_lost_or_corrupt_manifest_is_repaired_from_the_listing() {
    let aws = Aws::start().await;
    let bucket = aws.bucket("lost-manifest").await;
    let before = FakeSite::sample(8, 3);
    publish_site(&aws, &bucket, None, &before).await.unwrap();
    let mut after = before.clone();
    after.plans.remove("S5601-001-0");

    aws.s3
        .delete_object()
        .bucket(&bucket)
        .key(MANIFEST_KEY)
        .send()
        .await
        .unwrap();
    // One object lost its hash metadata (as if uploaded by hand): only it
    // is uploaded again; the rest are known by their own hashes.
    let stray = "plans/S5602-002-0/index.html";
    aws.s3
        .copy_object()
        .bucket(&bucket)
        .key(stray)
        .copy_source(format!("{bucket}/{stray}"))
        .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
        .content_type("text/html; charset=utf-8")
        .send()
        .await
        .unwrap();
    let summary = publish_site(&aws, &bucket, None, &after).await.unwrap();
    let changed = changed_keys(&before, &after)
        .into_iter()
        .filter(|k| after.objects().contains_key(k))
        .count() as u64;
    assert_eq!(
        summary.uploaded,
        changed + 1,
        "what changed, and the object without a hash"
    );
    assert_eq!(
        summary.deleted, 2,
        "the removed plan's objects, found by listing"
    );
    assert_bucket_is(&aws, &bucket, "", &after).await;

    aws.s3
        .put_object()
        .bucket(&bucket)
        .key(MANIFEST_KEY)
        .body(b"{not json".to_vec().into())
        .send()
        .await
        .unwrap();
    publish_site(&aws, &bucket, None, &after).await.unwrap();
    let again = publish_site(&aws, &bucket, None, &after).await.unwrap();
    assert_eq!(again.uploaded, 0, "the manifest was rewritten");
    assert_bucket_is(&aws, &bucket, "", &after).await;
}

/// The real store, failing as if the process died at a chosen call.
struct Crashing {
    inner: S3Store,
    /// Object uploads that succeed before the crash.
    puts: AtomicUsize,
    /// Manifest writes that succeed before the crash.
    manifests: AtomicUsize,
    /// Delete calls that succeed before the crash.
    deletes: AtomicUsize,
}

fn take(budget: &AtomicUsize) -> generator::Result<()> {
    budget
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .map(|_| ())
        .map_err(|_| generator::Error::Invalid("simulated crash".into()))
}

impl ObjectStore for Crashing {
    async fn put(&self, key: &str, object: &StagedObject) -> generator::Result<()> {
        take(&self.puts)?;
        self.inner.put(key, object).await
    }
    async fn delete(&self, keys: &[String]) -> generator::Result<()> {
        take(&self.deletes)?;
        self.inner.delete(keys).await
    }
    async fn get_manifest(&self) -> generator::Result<Option<Vec<u8>>> {
        self.inner.get_manifest().await
    }
    async fn put_manifest(&self, bytes: Vec<u8>) -> generator::Result<()> {
        take(&self.manifests)?;
        self.inner.put_manifest(bytes).await
    }
    async fn list(&self) -> generator::Result<Vec<String>> {
        self.inner.list().await
    }
    async fn stored_hash(&self, key: &str) -> generator::Result<Option<String>> {
        self.inner.stored_hash(key).await
    }
}

#[tokio::test]
async fn a_publish_that_dies_anywhere_is_repaired_by_the_next_one() {
    let aws = Aws::start().await;
    let site_v1 = FakeSite::sample(12, 4);
    let mut site_v2 = site_v1.clone();
    site_v2.plans.get_mut("S5602-002-0").unwrap().0 = 9_999;
    site_v2.plans.remove("S5605-005-0");
    site_v2
        .plans
        .insert("S5699-099-0".into(), (1_234, vec!["02001".into()]));
    let uploads = changed_keys(&site_v1, &site_v2)
        .into_iter()
        .filter(|k| site_v2.objects().contains_key(k))
        .count();
    assert!(uploads > 4);

    // (object uploads, manifest writes, delete calls) allowed before the crash.
    let mut crash_points = vec![(0, 0, 0), (0, 1, 0), (uploads, 1, 0), (uploads, 1, 1)];
    crash_points.extend((1..uploads).map(|n| (n, 1, 1)));
    for (n, (puts, manifests, deletes)) in crash_points.into_iter().enumerate() {
        let bucket = aws.bucket(&format!("crash-{n}")).await;
        let distribution = aws.distribution(&bucket).await;
        publish_site(&aws, &bucket, Some(&distribution), &site_v1)
            .await
            .unwrap();
        let crashing = Crashing {
            inner: S3Store::new(aws.s3.clone(), &bucket, ""),
            puts: AtomicUsize::new(puts),
            manifests: AtomicUsize::new(manifests),
            deletes: AtomicUsize::new(deletes),
        };
        let crashed = publish_with(
            &aws,
            &crashing,
            Some(&distribution),
            &site_v2,
            &Options::default(),
        )
        .await;
        assert!(crashed.is_err(), "crash point {n} was reached");

        // Every page of the old build is still served (until the deletions,
        // which come after every page that linked to them was replaced).
        let stored = aws.contents(&bucket, "").await;
        let v2_objects = site_v2.objects();
        for key in site_v1.objects().keys() {
            if deletes == 0 || v2_objects.contains_key(key) {
                assert!(
                    stored.contains_key(key),
                    "crash point {n}: {key} still served"
                );
            }
        }

        // The hardest next run: the data went back to the old build, so the
        // half-uploaded new bytes must be replaced although the old manifest
        // says those keys are unchanged.
        let repaired = publish_site(&aws, &bucket, Some(&distribution), &site_v1)
            .await
            .unwrap();
        assert_bucket_is(&aws, &bucket, "", &site_v1).await;
        if puts > 0 {
            assert!(
                repaired.uploaded >= puts as u64,
                "crash point {n}: {repaired:?}"
            );
            let invalidated = &repaired.invalidated_paths;
            assert!(
                !invalidated.is_empty(),
                "crash point {n}: pending paths invalidated"
            );
        }
        let settled = publish_site(&aws, &bucket, Some(&distribution), &site_v2)
            .await
            .unwrap();
        assert_bucket_is(&aws, &bucket, "", &site_v2).await;
        assert!(settled.uploaded > 0);
        let quiet = publish_site(&aws, &bucket, Some(&distribution), &site_v2)
            .await
            .unwrap();
        assert_eq!((quiet.uploaded, quiet.deleted), (0, 0), "crash point {n}");
    }
}
