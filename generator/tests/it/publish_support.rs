//! What the publish tests share: a moto_server, SDK clients pointed at it,
//! a small fake site written to a directory, and a reader for the bucket.

pub mod distribution;
pub mod moto;

use std::collections::BTreeMap;
use std::path::Path;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::Credentials;
use generator::publish::aws::{self, Endpoints};

pub use moto::Moto;

/// Everything a test needs to talk to its moto_server.
pub struct Aws {
    pub moto: Moto,
    pub s3: aws_sdk_s3::Client,
    pub cloudfront: aws_sdk_cloudfront::Client,
}

impl Aws {
    /// Starts moto_server and builds clients with fixed test credentials.
    pub async fn start() -> Aws {
        let moto = Moto::start();
        let config = test_config(&moto.url).await;
        let endpoints = Endpoints {
            s3: Some(moto.url.clone()),
            cloudfront: None,
        };
        Aws {
            s3: aws::s3_client(&config, &endpoints),
            cloudfront: aws::cloudfront_client(&config, &endpoints),
            moto,
        }
    }

    /// Creates a bucket.
    pub async fn bucket(&self, name: &str) -> String {
        self.s3.create_bucket().bucket(name).send().await.unwrap();
        name.to_owned()
    }

    /// Creates a distribution in front of `bucket` and returns its id.
    pub async fn distribution(&self, bucket: &str) -> String {
        distribution::create_distribution(&self.cloudfront, bucket).await
    }

    /// The paths of every invalidation of a distribution, in no set order.
    pub async fn invalidations(&self, distribution_id: &str) -> Vec<Vec<String>> {
        let list = self
            .cloudfront
            .list_invalidations()
            .distribution_id(distribution_id)
            .send()
            .await
            .unwrap();
        let mut result = Vec::new();
        let items = list
            .invalidation_list()
            .map(|l| l.items())
            .unwrap_or_default();
        for item in items {
            let got = self
                .cloudfront
                .get_invalidation()
                .distribution_id(distribution_id)
                .id(item.id())
                .send()
                .await
                .unwrap();
            let batch = got.invalidation().unwrap().invalidation_batch().unwrap();
            let mut paths = batch.paths().unwrap().items().to_vec();
            paths.sort();
            result.push(paths);
        }
        result
    }

    /// Every object under `prefix` with the headers that matter.
    pub async fn contents(&self, bucket: &str, prefix: &str) -> BTreeMap<String, Stored> {
        let mut result = BTreeMap::new();
        let mut pages = self
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for object in page.unwrap().contents() {
                let key = object.key().unwrap().to_owned();
                let got = self
                    .s3
                    .get_object()
                    .bucket(bucket)
                    .key(&key)
                    .send()
                    .await
                    .unwrap();
                let stored = Stored {
                    content_type: got.content_type().unwrap_or_default().to_owned(),
                    cache_control: got.cache_control().unwrap_or_default().to_owned(),
                    sha256: got
                        .metadata()
                        .and_then(|m| m.get("sha256"))
                        .cloned()
                        .unwrap_or_default(),
                    bytes: got.body.collect().await.unwrap().to_vec(),
                };
                result.insert(key, stored);
            }
        }
        result
    }
}

/// SDK settings for moto: fixed credentials and region, nothing from the
/// environment.
pub async fn test_config(url: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .load()
        .await
}

/// One object as the bucket holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub cache_control: String,
    pub sha256: String,
}

/// A tiny site with the real layout: plans with a monthly cost, offered in
/// zip codes. A plan's cost shows on its page, its JSON and the pages and
/// JSON of every zip offering it, as on the real site.
#[derive(Debug, Clone)]
pub struct FakeSite {
    /// plan_id → (monthly cost, zips).
    pub plans: BTreeMap<String, (u32, Vec<String>)>,
}

impl FakeSite {
    /// `plans` plans spread over `zips` zip codes, two zips each.
    pub fn sample(plans: usize, zips: usize) -> FakeSite {
        let plans = (0..plans)
            .map(|p| {
                let id = format!("S{:04}-{:03}-0", 5600 + p, p);
                let offered = vec![
                    format!("{:05}", 2000 + p % zips),
                    format!("{:05}", 2000 + (p + 1) % zips),
                ];
                (id, (1000 + p as u32 * 25, offered))
            })
            .collect();
        FakeSite { plans }
    }

    /// Every object, key → bytes.
    pub fn objects(&self) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        out.insert(
            "index.html".into(),
            b"<!doctype html><title>Find a plan</title><link href=/assets/site.3f2a1b.css>"
                .to_vec(),
        );
        out.insert(
            "404.html".into(),
            b"<!doctype html><title>Not found</title>".to_vec(),
        );
        out.insert("assets/site.3f2a1b.css".into(), b"body{margin:0}".to_vec());
        let mut zips: BTreeMap<&str, Vec<(&str, u32)>> = BTreeMap::new();
        for (id, (cost, offered)) in &self.plans {
            out.insert(
                format!("plans/{id}/index.html"),
                format!("<h1>Plan {id} &amp; more</h1><p>${cost}</p>").into_bytes(),
            );
            out.insert(
                format!("data/plans/{id}.json"),
                format!(r#"{{"plan_id":"{id}","avg_monthly_cost":{cost}}}"#).into_bytes(),
            );
            for zip in offered {
                zips.entry(zip).or_default().push((id, *cost));
            }
        }
        for (zip, plans) in zips {
            let list: String = plans
                .iter()
                .map(|(id, cost)| format!("<li><a href=/plans/{id}/>{id}</a> ${cost}</li>"))
                .collect();
            out.insert(
                format!("zip/{zip}/index.html"),
                format!("<ul>{list}</ul>").into_bytes(),
            );
            let json: Vec<String> = plans
                .iter()
                .map(|(id, cost)| format!(r#"{{"plan_id":"{id}","avg_monthly_cost":{cost}}}"#))
                .collect();
            out.insert(
                format!("data/zip/{zip}.json"),
                format!(r#"{{"zip":"{zip}","plans":[{}]}}"#, json.join(",")).into_bytes(),
            );
        }
        out
    }

    /// Writes the site into `dir`, which must be empty.
    pub fn write(&self, dir: &Path) {
        for (key, bytes) in self.objects() {
            let path = dir.join(&key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
    }
}
