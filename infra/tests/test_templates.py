"""Checks on infra/ that matter for security and availability.

cfn-lint proves the templates are valid CloudFormation; these tests prove they
say what we promise: the site bucket is private and read only through
CloudFront's Origin Access Control, TLS everywhere, the security headers on
every response, RDS encrypted and Multi-AZ, the CI role limited to one bucket
and one distribution. They also run the code that ships inside or beside the
templates: the CloudFront function, the JWT key rotation function, the
container entrypoint and the database bootstrap (on a throwaway Postgres).

Run: python3 -m pytest -q infra/tests/test_templates.py
"""

from __future__ import annotations

import fnmatch
import json
import os
import pathlib
import shutil
import socket
import stat
import subprocess
import tempfile
import urllib.parse

import pytest
from cfnlint.decode import cfn_yaml

INFRA = pathlib.Path(__file__).resolve().parents[1]
CFN = INFRA / "cloudformation"
DOCKER = INFRA / "docker"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


def load(name: str) -> dict:
    return cfn_yaml.load(str(CFN / name))


def resources(template: dict, rtype: str) -> dict:
    return {
        name: res.get("Properties", {})
        for name, res in template["Resources"].items()
        if res["Type"] == rtype
    }


def listify(value):
    return value if isinstance(value, list) else [value]


def unwrap_if(statements: list) -> list:
    """Policy statements, with `Fn::If [cond, stmt, NoValue]` taken as stmt."""
    out = []
    for s in statements:
        if "Fn::If" in s:
            s = s["Fn::If"][1]
        out.append(s)
    return out


def strings(value):
    """Every string leaf of an intrinsic-function tree."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def mentions(value, needle: str) -> bool:
    """True if `needle` appears in any string of an intrinsic-function tree."""
    return any(needle in s for s in strings(value))


SITE = load("site.yaml")
REPLICA = load("replica-bucket.yaml")
API = load("api.yaml")
DATA = load("data.yaml")
NETWORK = load("network.yaml")
CI = load("ci-role.yaml")
DIST = resources(SITE, "AWS::CloudFront::Distribution")["Distribution"]["DistributionConfig"]
BEHAVIOURS = [DIST["DefaultCacheBehavior"], *DIST["CacheBehaviors"]]


def behaviour(path: str) -> dict:
    return next(b for b in DIST["CacheBehaviors"] if b["PathPattern"] == path)


# --- every template ------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(CFN.glob("*.yaml")), ids=lambda p: p.name)
def test_every_template_is_parameterized_by_environment(path):
    template = cfn_yaml.load(str(path))
    assert "Environment" in template["Parameters"]
    # and every name we choose carries it, so two environments never collide
    # (DNS names come from DomainName, which differs per environment anyway)
    for name, res in template["Resources"].items():
        if res["Type"] == "AWS::Route53::RecordSet":
            continue
        for key in ("BucketName", "RoleName", "Name", "AlarmName", "FunctionName", "ClusterName"):
            value = res.get("Properties", {}).get(key)
            if isinstance(value, str) or (isinstance(value, dict) and "Fn::Sub" in value):
                assert mentions(value, "${Environment}"), f"{path.name} {name}.{key} lacks ${{Environment}}"


# --- the site bucket and its replica ----------------------------------------------

SITE_BUCKETS = [
    ("site", resources(SITE, "AWS::S3::Bucket")["SiteBucket"]),
    ("replica", resources(REPLICA, "AWS::S3::Bucket")["ReplicaBucket"]),
]


@pytest.mark.parametrize("which,bucket", SITE_BUCKETS, ids=[b[0] for b in SITE_BUCKETS])
def test_site_buckets_are_private_versioned_and_encrypted(which, bucket):
    block = bucket["PublicAccessBlockConfiguration"]
    for flag in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
        assert block[flag] is True, flag
    assert bucket["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"
    assert "AccessControl" not in bucket
    assert "WebsiteConfiguration" not in bucket, "a website endpoint would be public and bypass OAC"
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    sse = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")


def site_policies():
    site = resources(SITE, "AWS::S3::BucketPolicy")["SiteBucketPolicy"]
    replica = resources(REPLICA, "AWS::S3::BucketPolicy")["ReplicaBucketPolicy"]
    return [
        ("site", unwrap_if(site["PolicyDocument"]["Statement"]), "${Distribution}"),
        ("replica", unwrap_if(replica["PolicyDocument"]["Statement"]), "${DistributionId}"),
    ]


@pytest.mark.parametrize("which,statements,dist_ref", site_policies(), ids=["site", "replica"])
def test_only_this_distribution_reads_the_buckets(which, statements, dist_ref):
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert allows, "CloudFront must be allowed to read"
    for s in allows:
        assert s["Principal"] == {"Service": "cloudfront.amazonaws.com"}, s
        assert listify(s["Action"]) == ["s3:GetObject"], s
        source = s["Condition"]["StringEquals"]["AWS:SourceArn"]
        assert mentions(source, ":distribution/" + dist_ref), source


@pytest.mark.parametrize("which,statements,dist_ref", site_policies(), ids=["site", "replica"])
def test_buckets_refuse_plain_http_and_never_serve_the_manifest(which, statements, dist_ref):
    denies = [s for s in statements if s["Effect"] == "Deny"]
    assert any(
        s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false" for s in denies
    ), "no TLS-only statement"
    assert any(
        mentions(s["Resource"], "/_publish/*") and s["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        for s in denies
    ), "CloudFront is not denied _publish/*"


def test_primary_bucket_replicates_everything_including_deletes():
    rule = SITE_BUCKETS[0][1]["ReplicationConfiguration"]["Rules"][0]
    assert rule["Status"] == "Enabled"
    assert rule["Filter"] == {"Prefix": ""}
    assert rule["DeleteMarkerReplication"]["Status"] == "Enabled"
    assert mentions(rule["Destination"]["Bucket"], "site-replica")


# --- CloudFront -----------------------------------------------------------------


def test_s3_origins_use_origin_access_control_only():
    s3_origins = [o for o in DIST["Origins"] if "S3OriginConfig" in o]
    assert len(s3_origins) == 2
    for origin in s3_origins:
        assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["OriginAccessControl", "Id"]}
        assert origin["S3OriginConfig"]["OriginAccessIdentity"] == "", "legacy OAI in use"
    assert not any("s3-website" in json.dumps(o) for o in DIST["Origins"])
    oac = resources(SITE, "AWS::CloudFront::OriginAccessControl")["OriginAccessControl"]
    assert oac["OriginAccessControlConfig"]["SigningBehavior"] == "always"


def test_site_fails_over_to_the_replica_region():
    (group,) = DIST["OriginGroups"]["Items"]
    members = [m["OriginId"] for m in group["Members"]["Items"]]
    assert members == ["site-primary", "site-replica"]
    assert {500, 502, 503, 504} <= set(group["FailoverCriteria"]["StatusCodes"]["Items"])
    replica = next(o for o in DIST["Origins"] if o["Id"] == "site-replica")
    assert mentions(replica["DomainName"], "${ReplicaRegion}")
    assert DIST["DefaultCacheBehavior"]["TargetOriginId"] == group["Id"]


def test_viewers_and_origins_speak_only_modern_tls():
    cert = DIST["ViewerCertificate"]
    assert cert["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert cert["SslSupportMethod"] == "sni-only"
    for b in BEHAVIOURS:
        assert b["ViewerProtocolPolicy"] in ("redirect-to-https", "https-only"), b
    assert behaviour("/api/*")["ViewerProtocolPolicy"] == "https-only"
    for o in DIST["Origins"]:
        if "CustomOriginConfig" in o:
            assert o["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
            assert o["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]
    assert DIST["HttpVersion"] == "http2and3"
    assert all(b["Compress"] is True for b in BEHAVIOURS)
    assert DIST["Logging"]["IncludeCookies"] is False, "cookies hold the session JWT"


def test_security_headers_policy_is_on_every_behaviour():
    policy_ref = {"Ref": "SecurityHeadersPolicy"}
    for b in BEHAVIOURS:
        assert b.get("ResponseHeadersPolicyId") == policy_ref, b.get("PathPattern", "default")
    config = resources(SITE, "AWS::CloudFront::ResponseHeadersPolicy")["SecurityHeadersPolicy"]
    headers = config["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    hsts = headers["StrictTransportSecurity"]
    assert hsts["AccessControlMaxAgeSec"] >= 31536000 and hsts["IncludeSubdomains"] is True
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] in (
        "no-referrer",
        "strict-origin",
        "strict-origin-when-cross-origin",
        "same-origin",
    )
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    for directive in ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "script-src 'self'"):
        assert directive in csp, directive
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_api_is_never_cached_and_the_site_is():
    api = behaviour("/api/*")
    assert api["TargetOriginId"] == "api"
    assert api["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # Managed-CachingDisabled
    assert "POST" in api["AllowedMethods"]
    assert "FunctionAssociations" not in api
    site_policy = resources(SITE, "AWS::CloudFront::CachePolicy")["SiteCachePolicy"]["CachePolicyConfig"]
    assert site_policy["MaxTTL"] >= 86400
    key = site_policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["CookiesConfig"]["CookieBehavior"] == "none", "cookies would split the shared cache"
    assert DIST["DefaultCacheBehavior"]["CachePolicyId"] == {"Ref": "SiteCachePolicy"}
    assert DIST["DefaultCacheBehavior"]["AllowedMethods"] == ["GET", "HEAD"]


def test_missing_pages_get_the_404_page_but_api_errors_pass_through():
    errors = {e["ErrorCode"]: e for e in DIST["CustomErrorResponses"]}
    assert errors[403]["ResponsePagePath"] == "/404.html"
    assert errors[403]["ResponseCode"] == 404
    # a 404 or 5xx mapping would replace the API's JSON errors with HTML
    assert set(errors) == {403}


def test_the_api_origin_carries_the_verify_header():
    api = next(o for o in DIST["Origins"] if o["Id"] == "api")
    headers = {h["HeaderName"]: h["HeaderValue"] for h in api["OriginCustomHeaders"]}
    assert headers["X-Origin-Verify"] == {"Ref": "OriginVerifyToken"}
    assert SITE["Parameters"]["OriginVerifyToken"]["NoEcho"] is True


# --- WAF -------------------------------------------------------------------------


def test_waf_is_global_attached_and_rate_limits_login_and_fulfillment():
    acl = resources(SITE, "AWS::WAFv2::WebACL")["WebAcl"]
    assert acl["Scope"] == "CLOUDFRONT"
    assert DIST["WebACLId"] == {"Fn::GetAtt": ["WebAcl", "Arn"]}
    assert SITE["Rules"]["OnlyInUsEast1"]["Assertions"][0]["Assert"] == {
        "Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]
    }
    managed = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in acl["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= managed
    limited = {}
    for r in acl["Rules"]:
        rate = r["Statement"].get("RateBasedStatement")
        if rate and "ByteMatchStatement" in rate["ScopeDownStatement"]:
            match = rate["ScopeDownStatement"]["ByteMatchStatement"]
            assert match["FieldToMatch"] == {"UriPath": {}}
            limited[match["SearchString"]] = r
    assert set(limited) == {
        "/api/login",
        "/api/fulfillment",
        "/api/accounts",
        "/api/accounts/verify-email",
        "/api/password/",
    }
    for rule in limited.values():
        assert rule["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    logging = resources(SITE, "AWS::WAFv2::LoggingConfiguration")["WafLogging"]
    redacted = {f["SingleHeader"]["Name"] for f in logging["RedactedFields"]}
    assert {"authorization", "cookie"} <= redacted


def test_waf_refuses_a_burst_of_mail_requests_from_one_client():
    acl = resources(SITE, "AWS::WAFv2::WebACL")["WebAcl"]
    (burst,) = [r for r in acl["Rules"] if r["Name"] == "fulfillment-burst"]
    rate = burst["Statement"]["RateBasedStatement"]
    assert rate["EvaluationWindowSec"] == 60, "a minute: shorter than the five-minute rule"
    assert rate["AggregateKeyType"] == "IP"
    assert rate["Limit"] == {"Ref": "FulfillmentBurstLimit"}
    assert SITE["Parameters"]["FulfillmentBurstLimit"]["Default"] <= 10
    matches = [s["ByteMatchStatement"] for s in rate["ScopeDownStatement"]["AndStatement"]["Statements"]]
    assert {"FieldToMatch": {"Method": {}}, "SearchString": "POST"}.items() <= matches[0].items()
    assert matches[0]["PositionalConstraint"] == "EXACTLY"
    assert matches[1]["FieldToMatch"] == {"UriPath": {}}
    assert matches[1]["SearchString"] == "/api/fulfillment"
    assert burst["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    # evaluated before the managed rule groups, and no two rules share a priority
    priorities = [r["Priority"] for r in acl["Rules"]]
    assert len(set(priorities)) == len(priorities)
    managed = [r["Priority"] for r in acl["Rules"] if "ManagedRuleGroupStatement" in r["Statement"]]
    assert burst["Priority"] < min(managed)


def waf_counts(rule: dict, method: str, path: str) -> bool:
    """Whether a rate-based rule's scope-down statement counts this request
    (the byte-match subset the web ACL uses: UriPath or Method, LOWERCASE or
    NONE, EXACTLY or STARTS_WITH)."""

    def matches(statement: dict) -> bool:
        if "AndStatement" in statement:
            return all(matches(s) for s in statement["AndStatement"]["Statements"])
        match = statement["ByteMatchStatement"]
        value = path if "UriPath" in match["FieldToMatch"] else method
        for t in match["TextTransformations"]:
            assert t["Type"] in ("LOWERCASE", "NONE"), t
            if t["Type"] == "LOWERCASE":
                value = value.lower()
        if match["PositionalConstraint"] == "EXACTLY":
            return value == match["SearchString"]
        assert match["PositionalConstraint"] == "STARTS_WITH", match
        return value.startswith(match["SearchString"])

    return matches(rule["Statement"]["RateBasedStatement"]["ScopeDownStatement"])


def test_waf_rate_limits_account_creation_verification_and_password_routes():
    import yaml

    acl = resources(SITE, "AWS::WAFv2::WebACL")["WebAcl"]
    rules = {r["Name"]: r for r in acl["Rules"]}
    managed = min(r["Priority"] for r in acl["Rules"] if "ManagedRuleGroupStatement" in r["Statement"])
    expected = {
        "account-create-rate": ("AccountCreateRateLimit", 10),
        "verify-email-rate": ("VerifyEmailRateLimit", 20),
        "password-rate": ("PasswordRateLimit", 20),
    }
    for name, (parameter, most) in expected.items():
        rule = rules[name]
        rate = rule["Statement"]["RateBasedStatement"]
        assert rate["Limit"] == {"Ref": parameter}, name
        assert SITE["Parameters"][parameter]["Default"] <= most, name
        assert SITE["Parameters"][parameter]["MinValue"] >= 10, "the lowest limit WAF accepts"
        assert rate["EvaluationWindowSec"] == 300 and rate["AggregateKeyType"] == "IP", name
        assert rule["Action"]["Block"]["CustomResponse"] == {
            "ResponseCode": 429,
            "CustomResponseBodyKey": "rate-limited",
        }, name
        assert rule["Priority"] < managed, f"{name}: counted before a managed group can end evaluation"
        assert rule["VisibilityConfig"]["MetricName"] == name

    # Every such route of the API's contract is counted by its rule, however
    # the path is capitalized, and nothing else is.
    paths = {
        path
        for path in yaml.safe_load((INFRA.parent / "auth-api" / "openapi.yaml").read_text())["paths"]
        if path.startswith(("/api/accounts", "/api/password/"))
    }
    assert paths == {
        "/api/accounts",
        "/api/accounts/verify-email",
        "/api/password/forgot",
        "/api/password/reset",
    }, "a new route: give it a rule, or say here why it needs none"
    owner = {
        "/api/accounts": "account-create-rate",
        "/api/accounts/verify-email": "verify-email-rate",
        "/api/password/forgot": "password-rate",
        "/api/password/reset": "password-rate",
    }
    for path, name in owner.items():
        for variant in (path, path.upper()):
            counted = {n for n in expected if waf_counts(rules[n], "POST", variant)}
            assert counted == {name}, variant
    for path in ("/api/login", "/api/me/password", "/api/fulfillment", "/api/me/enrollment"):
        assert not any(waf_counts(rules[n], "POST", path) for n in expected), path


# --- the CloudFront function (run in node) ---------------------------------------

# One table of cases for the edge and for `generator serve` (its Rust test
# reads the same file): request path and query as sent -> expected outcome.
ROUTER_CASES = json.loads((INFRA.parent / "tests/rules/routing.json").read_text())


def cloudfront_querystring(query: str | None) -> dict:
    """The event's querystring object, as CloudFront builds it: values as sent."""
    out: dict = {}
    for pair in (query or "").split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        if key in out:
            out[key].setdefault("multiValue", [{"value": out[key]["value"]}]).append({"value": value})
        else:
            out[key] = {"value": value}
    return out


@pytest.fixture(scope="module")
def router_results():
    if NODE is None:
        pytest.skip("node is not installed")
    fn = resources(SITE, "AWS::CloudFront::Function")["RouterFunction"]
    assert fn["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    code = fn["FunctionCode"]
    assert len(code.encode()) < 10240, "CloudFront Functions are limited to 10 KB"
    events = [
        {"request": {"uri": c["path"], "querystring": cloudfront_querystring(c.get("query")), "headers": {}}}
        for c in ROUTER_CASES
    ]
    script = (
        "const handler = new Function(process.argv[1] + '\\nreturn handler;')();\n"
        "const events = JSON.parse(process.argv[2]);\n"
        "console.log(JSON.stringify(events.map((e) => handler(e))));\n"
    )
    out = subprocess.run(
        [NODE, "-e", script, code, json.dumps(events)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)


def behaviour_for(path: str) -> dict:
    """The cache behaviour CloudFront picks for a path (first match wins)."""
    for b in DIST["CacheBehaviors"]:
        if fnmatch.fnmatchcase(path, b["PathPattern"]):
            return b
    return DIST["DefaultCacheBehavior"]


@pytest.mark.parametrize(
    "index", range(len(ROUTER_CASES)), ids=[f"{c['path']}?{c.get('query', '')}" for c in ROUTER_CASES]
)
def test_router_function(router_results, index):
    case = ROUTER_CASES[index]
    expected = case["expect"]
    result = router_results[index]
    behaviour = behaviour_for(case["path"])
    if expected == "api":
        assert behaviour["TargetOriginId"] == "api", case
        return
    assert behaviour is DIST["DefaultCacheBehavior"], case
    if expected == "not_found":
        assert "statusCode" not in result, result
        assert result["uri"] == "/_not_found"
        assert result["querystring"] == {}
    elif "key" in expected:
        assert "statusCode" not in result, result
        # S3 decodes the URI CloudFront forwards into the object key.
        assert urllib.parse.unquote(result["uri"], errors="strict") == "/" + expected["key"]
    else:
        assert result["statusCode"] == expected["redirect"], result
        location = result["headers"]["location"]["value"]
        assert location == expected["location"]
        assert location.startswith("/") and location[1:2] not in ("/", "\\"), location


def test_router_runs_on_the_site_but_not_on_assets():
    assoc = DIST["DefaultCacheBehavior"]["FunctionAssociations"]
    assert assoc == [
        {
            "EventType": "viewer-request",
            "FunctionARN": {"Fn::GetAtt": ["RouterFunction", "FunctionMetadata.FunctionARN"]},
        }
    ]
    assert "FunctionAssociations" not in behaviour("/assets/*")


# --- API: load balancer, service, alarms ------------------------------------------


def test_load_balancer_is_https_only_and_answers_only_cloudfront():
    listeners = resources(API, "AWS::ElasticLoadBalancingV2::Listener")
    assert listeners, "no listener"
    for listener in listeners.values():
        assert listener["Protocol"] == "HTTPS"
        assert listener["SslPolicy"].startswith("ELBSecurityPolicy-TLS13-1-2")
        (default,) = listener["DefaultActions"]
        assert default["Type"] == "fixed-response"
        assert default["FixedResponseConfig"]["StatusCode"] == "403"
    (rule,) = resources(API, "AWS::ElasticLoadBalancingV2::ListenerRule").values()
    (cond,) = rule["Conditions"]
    assert cond["HttpHeaderConfig"]["HttpHeaderName"] == "X-Origin-Verify"
    alb_sg = resources(NETWORK, "AWS::EC2::SecurityGroup")["AlbSecurityGroup"]
    (ingress,) = alb_sg["SecurityGroupIngress"]
    assert ingress["SourcePrefixListId"] == {"Ref": "CloudFrontPrefixListId"}
    assert "CidrIp" not in ingress
    lb = resources(API, "AWS::ElasticLoadBalancingV2::LoadBalancer")["LoadBalancer"]
    attrs = {a["Key"]: a["Value"] for a in lb["LoadBalancerAttributes"]}
    assert attrs["routing.http.drop_invalid_header_fields.enabled"] == "true"


def test_api_runs_in_several_zones_behind_readyz():
    tg = resources(API, "AWS::ElasticLoadBalancingV2::TargetGroup")["TargetGroup"]
    assert tg["HealthCheckPath"] == "/readyz"
    service = resources(API, "AWS::ECS::Service")["Service"]
    vpc = service["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert vpc["AssignPublicIp"] == "DISABLED"
    assert mentions(vpc["Subnets"], "AppSubnetIds")
    assert service["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert service["DeploymentConfiguration"]["MinimumHealthyPercent"] >= 100
    assert API["Parameters"]["MinTasks"]["MinValue"] >= 2
    app_subnets = [
        props["AvailabilityZone"]
        for name, props in resources(NETWORK, "AWS::EC2::Subnet").items()
        if name.startswith("AppSubnet")
    ]
    assert len({json.dumps(az) for az in app_subnets}) >= 2


def test_task_gets_its_settings_and_secrets_the_safe_way():
    td = resources(API, "AWS::ECS::TaskDefinition")["TaskDefinition"]
    api = next(c for c in td["ContainerDefinitions"] if c["Name"] == "auth-api")
    env = {e["Name"]: e["Value"] for e in api["Environment"]}
    assert env["LISTEN_ADDR"] == "0.0.0.0:8080"
    assert env["ADMIN_LISTEN_ADDR"].startswith("127.0.0.1:"), "metrics must not be reachable from outside"
    # Behind CloudFront and the ALB the peer is the ALB: without these every
    # viewer would share one login-throttling and one fulfillment bucket.
    assert env["TRUST_FORWARDED_FOR"] == "true"
    assert env["TRUSTED_PROXY_HOPS"] == "1"
    assert not any(word in name for name in env for word in ("PASSWORD", "SECRET", "KEY", "DATABASE_URL"))
    secrets = {s["Name"]: s["ValueFrom"] for s in api["Secrets"]}
    assert set(secrets) == {"DB_SECRET_JSON", "JWT_KEYS_JSON", "PSEUDONYM_KEY_SECRET", "SMTP_CREDENTIALS_JSON"}
    assert api["ReadonlyRootFilesystem"] is True
    assert api["PortMappings"] == [{"ContainerPort": 8080, "Protocol": "tcp"}]


def exported_by(template: dict, import_value) -> str:
    """The logical id of the resource behind `!ImportValue whatever-${Environment}-X`."""
    suffix = _sub_text(import_value["Fn::ImportValue"]).removeprefix("whatever-${Environment}-")
    output = next(o for o in template["Outputs"].values() if _sub_text(o.get("Export", {}).get("Name")) == "whatever-${Environment}-" + suffix)
    return output["Value"]["Ref"]


def test_the_pseudonym_key_is_generated_and_reaches_the_api_from_its_secret():
    # Generated by Secrets Manager, encrypted with our secrets key.
    key = resources(DATA, "AWS::SecretsManager::Secret")["PseudonymKeySecret"]
    assert key["KmsKeyId"] == {"Ref": "SecretsKey"}
    assert "SecretString" not in key
    generate = key["GenerateSecretString"]
    assert "SecretStringTemplate" not in generate, "the whole secret is the key, not a JSON field"
    assert generate["PasswordLength"] >= 43, "the API requires 32 bytes; 43 alphanumerics carry 256 bits"
    assert generate["ExcludePunctuation"] is True and generate.get("IncludeSpace") is False

    # The task reads exactly that secret, as PSEUDONYM_KEY_SECRET ...
    td = resources(API, "AWS::ECS::TaskDefinition")["TaskDefinition"]
    api = next(c for c in td["ContainerDefinitions"] if c["Name"] == "auth-api")
    secrets = {s["Name"]: s["ValueFrom"] for s in api["Secrets"]}
    assert exported_by(DATA, secrets["PSEUDONYM_KEY_SECRET"]) == "PseudonymKeySecret"
    # ... which its execution role may read, and nothing else may ...
    role = resources(API, "AWS::IAM::Role")["ExecutionRole"]
    readable = [
        exported_by(DATA, arn)
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        if "secretsmanager:GetSecretValue" in listify(statement["Action"])
        for arn in listify(statement["Resource"])
    ]
    assert "PseudonymKeySecret" in readable
    for name, other in resources(API, "AWS::IAM::Role").items():
        if name != "ExecutionRole":
            assert not mentions(other, "PseudonymKeySecretArn"), name
    # ... in production mode, where the API will not start without it.
    env = {e["Name"]: e["Value"] for e in api["Environment"]}
    assert env["APP_ENV"] == "production"
    assert "PSEUDONYM_KEY_FILE" not in env, "the entrypoint sets it, from the secret"
    assert mentions(api["MountPoints"], "/run/whatever"), "where the entrypoint writes the key file"


def test_the_api_mails_links_to_the_public_site_over_tls():
    import re

    td = resources(API, "AWS::ECS::TaskDefinition")["TaskDefinition"]
    api = next(c for c in td["ContainerDefinitions"] if c["Name"] == "auth-api")
    env = {e["Name"]: e["Value"] for e in api["Environment"]}
    # Links in mail and the passkeys' relying party are the public site,
    # over https, never the localhost defaults.
    assert env["SITE_URL"] == {"Fn::Sub": "https://${DomainName}"}
    assert env["MAIL_FROM"] == {"Ref": "MailFrom"}
    # TLS from the first byte; the credentials are not in the template.
    smtp = _sub_text(env["SMTP_URL"])
    assert smtp == "smtps://${SmtpHost}:465"
    assert not any("localhost" in json.dumps(v) or "127.0.0.1:1025" in json.dumps(v) for v in env.values())
    host = re.compile(API["Parameters"]["SmtpHost"]["AllowedPattern"])
    assert host.fullmatch("email-smtp.us-east-1.amazonaws.com")
    for bad in ("", "user:pw@smtp.example.gov", "smtp.example.gov/x", "smtp.example.gov:25", "a b"):
        assert not host.fullmatch(bad), bad
    assert "Default" not in API["Parameters"]["SmtpHost"], "no silent default server"
    assert "Default" not in API["Parameters"]["MailFrom"]

    # The credentials come from their own secret, encrypted with our key,
    # which only the execution role reads.
    secrets = {s["Name"]: s["ValueFrom"] for s in api["Secrets"]}
    assert exported_by(DATA, secrets["SMTP_CREDENTIALS_JSON"]) == "SmtpCredentialsSecret"
    secret = resources(DATA, "AWS::SecretsManager::Secret")["SmtpCredentialsSecret"]
    assert secret["KmsKeyId"] == {"Ref": "SecretsKey"}
    assert json.loads(secret["SecretString"]) == {"username": "", "password": ""}, "set by an operator"
    role = resources(API, "AWS::IAM::Role")["ExecutionRole"]
    readable = [
        exported_by(DATA, arn)
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        if "secretsmanager:GetSecretValue" in listify(statement["Action"])
        for arn in listify(statement["Resource"])
    ]
    assert "SmtpCredentialsSecret" in readable
    for name, other in resources(API, "AWS::IAM::Role").items():
        if name != "ExecutionRole":
            assert not mentions(other, "SmtpCredentialsSecretArn"), name


def alarms(template):
    return resources(template, "AWS::CloudWatch::Alarm")


def alarm_metrics(alarm) -> set:
    if "MetricName" in alarm:
        return {(alarm["Namespace"], alarm["MetricName"])}
    return {
        (m["MetricStat"]["Metric"]["Namespace"], m["MetricStat"]["Metric"]["MetricName"])
        for m in alarm["Metrics"]
        if "MetricStat" in m
    }


def test_the_api_never_migrates_and_posts_addresses_only_over_https():
    import re

    td = resources(API, "AWS::ECS::TaskDefinition")["TaskDefinition"]
    api = next(c for c in td["ContainerDefinitions"] if c["Name"] == "auth-api")
    env = {e["Name"]: e["Value"] for e in api["Environment"]}
    assert env["RUN_MIGRATIONS"] == "false", "the API's role may not change the schema"
    assert "FULFILLMENT_ALLOW_HTTP" not in env
    pattern = re.compile(API["Parameters"]["FulfillmentUrl"]["AllowedPattern"])
    assert pattern.fullmatch("https://fulfillment.example.gov")
    assert pattern.fullmatch(""), "empty: requests queue until it is set"
    for bad in ("http://fulfillment.example.gov", "fulfillment.example.gov", "https://a b"):
        assert not pattern.fullmatch(bad), bad
    admin = resources(API, "AWS::ECS::TaskDefinition")["AdminTaskDefinition"]
    assert admin["ContainerDefinitions"][0]["Command"] == ["bootstrap-db"]
    assert "DATABASE_ROLE=whatever_app exec generator migrate" in (DOCKER / "bootstrap-db").read_text()


def test_database_logs_never_carry_bind_parameters():
    params = resources(DATA, "AWS::RDS::DBParameterGroup")["DbParameters"]["Parameters"]
    assert params["log_parameter_max_length"] == "0"
    assert params["log_parameter_max_length_on_error"] == "0"
    # still there: what made the parameters worth hiding
    assert params["log_min_duration_statement"] == "500"


ALL_TEMPLATES = {p.name: cfn_yaml.load(str(p)) for p in sorted(CFN.glob("*.yaml"))}


def _sub_text(value) -> str:
    """The template string of a name given as a plain string or `!Sub`."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        value = value["Fn::Sub"]
        return value if isinstance(value, str) else value[0]
    return value


def test_every_log_group_expires_including_those_aws_would_create():
    declared = {}
    for name, template in ALL_TEMPLATES.items():
        for res_name, group in resources(template, "AWS::Logs::LogGroup").items():
            assert group.get("RetentionInDays"), f"{name} {res_name} keeps logs forever"
            declared[_sub_text(group["LogGroupName"])] = group["RetentionInDays"]
    # Groups AWS creates on first write, without a retention, unless declared:
    implicit = []
    for name, template in ALL_TEMPLATES.items():
        for fn in resources(template, "AWS::Lambda::Function").values():
            implicit.append("/aws/lambda/" + _sub_text(fn["FunctionName"]))
        for fn in resources(template, "AWS::CloudFront::Function").values():
            implicit.append("/aws/cloudfront/function/" + _sub_text(fn["Name"]))
        for rotation in resources(template, "AWS::SecretsManager::RotationSchedule").values():
            if "HostedRotationLambda" in rotation:
                implicit.append("/aws/lambda/" + _sub_text(rotation["HostedRotationLambda"]["RotationLambdaName"]))
        for db in resources(template, "AWS::RDS::DBInstance").values():
            for export in db.get("EnableCloudwatchLogsExports", []):
                implicit.append(f"/aws/rds/instance/{_sub_text(db['DBInstanceIdentifier'])}/{export}")
    assert len(implicit) >= 6
    missing = [g for g in implicit if g not in declared]
    assert not missing, f"created by AWS without a retention: {missing}"


def test_alarms_cover_errors_latency_outbox_and_the_nightly_pipeline():
    watched = set().union(*(alarm_metrics(a) for a in alarms(API).values()))
    assert ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count") in watched
    assert ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count") in watched
    assert ("WhateverGov/AuthApi", "OutboxOldestAgeSeconds") in watched
    assert ("WhateverGov/Pipeline", "NightlyFailed") in watched
    p99 = [a for a in alarms(API).values() if a.get("ExtendedStatistic") == "p99"]
    assert p99 and p99[0]["MetricName"] == "TargetResponseTime"
    pipeline = [a for a in alarms(API).values() if a.get("MetricName") == "NightlyFailed"]
    # one for a reported failure, one for silence (the job did not run at all)
    assert {a["TreatMissingData"] for a in pipeline} == {"notBreaching", "breaching"}
    outbox = next(a for a in alarms(API).values() if a.get("MetricName") == "OutboxOldestAgeSeconds")
    assert outbox["TreatMissingData"] == "breaching"
    assert ("AWS/CloudFront", "5xxErrorRate") in set().union(*(alarm_metrics(a) for a in alarms(SITE).values()))
    for template in (API, SITE, DATA):
        for name, alarm in alarms(template).items():
            assert mentions(alarm["AlarmActions"], "AlarmTopicArn"), name


def test_the_metrics_sidecar_publishes_the_outbox_metric_by_that_name():
    td = resources(API, "AWS::ECS::TaskDefinition")["TaskDefinition"]
    sidecar = next(c for c in td["ContainerDefinitions"] if c["Name"] == "metrics")
    assert sidecar["Essential"] is False
    env = {e["Name"]: e["Value"] for e in sidecar["Environment"]}
    agent = json.loads(env["CW_CONFIG_CONTENT"]["Fn::Sub"])  # valid JSON once substituted
    emf = agent["logs"]["metrics_collected"]["prometheus"]["emf_processor"]
    assert emf["metric_namespace"] == "WhateverGov/AuthApi"
    assert emf["metric_declaration"][0]["metric_selectors"] == ["^OutboxOldestAgeSeconds$"]
    assert mentions(env["PROMETHEUS_CONFIG_CONTENT"], "replacement: OutboxOldestAgeSeconds")
    assert mentions(env["PROMETHEUS_CONFIG_CONTENT"], "127.0.0.1:9090")


# The throttle counter as the running API serves it on /metrics, written by
# auth-api/tests/it/login_throttle_metric.rs: the alarms are checked against
# what the API emits, not against a name copied by hand.
THROTTLE_FIXTURE = INFRA / "tests" / "fixtures" / "login_throttled.prom"


def parse_prometheus(text: str) -> tuple[dict, list]:
    """The `# TYPE`s and the samples (name, labels, value) of a text page."""
    import re

    types, samples = {}, []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
        elif line and not line.startswith("#"):
            m = re.fullmatch(r"([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? (\S+)", line)
            assert m, f"not a sample: {line!r}"
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
            samples.append((m.group(1), labels, float(m.group(3))))
    return types, samples


def sidecar_config() -> tuple[dict, dict]:
    """The agent's JSON and the Prometheus scrape config, substituted as
    CloudFormation would with each parameter's default."""
    import re

    import yaml

    td = resources(API, "AWS::ECS::TaskDefinition")["TaskDefinition"]
    sidecar = next(c for c in td["ContainerDefinitions"] if c["Name"] == "metrics")
    env = {e["Name"]: e["Value"] for e in sidecar["Environment"]}

    def substitute(value) -> str:
        def one(m):
            name = m.group(1)
            return str(API["Parameters"].get(name, {}).get("Default", f"<{name}>"))

        return re.sub(r"\$\{([^}]+)\}", one, _sub_text(value))

    agent = json.loads(substitute(env["CW_CONFIG_CONTENT"]))
    scrape = yaml.safe_load(substitute(env["PROMETHEUS_CONFIG_CONTENT"]))
    return agent, scrape


def exported_name(name: str, relabels: list) -> str:
    """A metric's name after the scrape job's metric_relabel_configs."""
    import re

    for rule in relabels:
        if rule.get("source_labels") == ["__name__"] and rule.get("target_label") == "__name__":
            if re.fullmatch(rule["regex"], name):
                name = rule["replacement"]
    return name


def test_login_throttle_alarms_watch_the_counter_the_api_serves():
    import re

    types, samples = parse_prometheus(THROTTLE_FIXTURE.read_text())
    assert samples, f"{THROTTLE_FIXTURE} holds no sample"
    agent, scrape = sidecar_config()
    emf = agent["logs"]["metrics_collected"]["prometheus"]["emf_processor"]
    (job,) = [j for j in scrape["scrape_configs"] if any("127.0.0.1:9090" in t for s in j["static_configs"] for t in s["targets"])]
    static_labels = {k for s in job["static_configs"] for k in s.get("labels", {})}

    api_alarms = alarms(API)
    throttle = {name: a for name, a in api_alarms.items() if name in ("LoginThrottledAlarm", "LoginAccountLimitAlarm")}
    assert set(throttle) == {"LoginThrottledAlarm", "LoginAccountLimitAlarm"}
    for name, alarm in throttle.items():
        watched = [
            (labels, value)
            for metric, labels, value in samples
            if exported_name(metric, job.get("metric_relabel_configs", [])) == alarm["MetricName"]
        ]
        assert watched, f"{name} watches {alarm['MetricName']}, which the API does not serve"
        metric = next(m for m, _, _ in samples if exported_name(m, job.get("metric_relabel_configs", [])) == alarm["MetricName"])
        # A counter: the agent exports its increase per scrape, so Sum over
        # the period is the number of throttled logins in it.
        assert types[metric] == "counter"
        assert alarm["Statistic"] == "Sum"
        assert alarm["Namespace"] == emf["metric_namespace"]
        # Some declaration exports it from this job with the alarm's dimensions.
        dims = {d["Name"] for d in alarm["Dimensions"]}
        declared = [
            d
            for d in emf["metric_declaration"]
            if any(re.search(sel, alarm["MetricName"]) for sel in d["metric_selectors"])
            and d["source_labels"] == ["job"]
            and re.search(d["label_matcher"], job["job_name"])
        ]
        assert any(dims == set(ds) for d in declared for ds in d["dimensions"]), name
        for dim in alarm["Dimensions"]:
            if dim["Name"] == "Environment":
                assert dim["Value"] == {"Ref": "Environment"} and "Environment" in static_labels
            else:
                values = {labels.get(dim["Name"]) for labels, _ in watched}
                assert dim["Value"] in values, f"{name}: no sample with {dim['Name']}={dim['Value']}"
        # Raised and cleared through the same topic as every other alarm.
        assert mentions(alarm["AlarmActions"], "AlarmTopicArn")
        assert mentions(alarm["OKActions"], "AlarmTopicArn")
        assert alarm["TreatMissingData"] == "notBreaching", "no throttled login is no data"

    spike = throttle["LoginThrottledAlarm"]
    assert [d["Name"] for d in spike["Dimensions"]] == ["Environment"], "summed over every limit"
    assert spike["Threshold"] == {"Ref": "LoginThrottledThreshold"}
    account = throttle["LoginAccountLimitAlarm"]
    assert {d["Name"]: d["Value"] for d in account["Dimensions"]}["limit"] == "account"
    assert account["Threshold"] == 1 and account["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


# --- data: RDS, KMS, secrets ----------------------------------------------------------


def test_database_is_encrypted_multi_az_private_and_backed_up():
    res = DATA["Resources"]["Database"]
    db = res["Properties"]
    assert db["MultiAZ"] is True
    assert db["StorageEncrypted"] is True and db["KmsKeyId"] == {"Ref": "DatabaseKey"}
    assert db["PubliclyAccessible"] is False
    assert db["ManageMasterUserPassword"] is True and "MasterUserPassword" not in db
    assert db["DeletionProtection"] is True
    # an in-place minor upgrade stops both copies at once: done by blue/green instead
    assert db["AutoMinorVersionUpgrade"] is False
    assert db["BackupRetentionPeriod"] == {"Ref": "BackupRetentionDays"}
    assert DATA["Parameters"]["BackupRetentionDays"]["MinValue"] >= 7
    assert res["DeletionPolicy"] == "Snapshot"
    group = resources(DATA, "AWS::RDS::DBSubnetGroup")["DbSubnetGroup"]
    assert mentions(group["SubnetIds"], "DataSubnetIds")
    data_routes = [
        r for r in resources(NETWORK, "AWS::EC2::Route").values() if r["RouteTableId"] == {"Ref": "DataRouteTable"}
    ]
    assert data_routes == [], "the data subnets must have no route out"
    sg = resources(NETWORK, "AWS::EC2::SecurityGroup")["DatabaseSecurityGroup"]
    for rule in sg["SecurityGroupIngress"]:
        assert "SourceSecurityGroupId" in rule and "CidrIp" not in rule, rule


def test_keys_rotate_and_every_secret_is_encrypted_with_ours_and_rotated():
    for name, key in resources(DATA, "AWS::KMS::Key").items():
        assert key["EnableKeyRotation"] is True, name
    secrets = resources(DATA, "AWS::SecretsManager::Secret")
    assert {"ApiDatabaseSecret", "PipelineDatabaseSecret", "JwtKeysSecret", "PseudonymKeySecret"} <= set(secrets)
    rotated = {
        s["SecretId"]["Ref"] for s in resources(DATA, "AWS::SecretsManager::RotationSchedule").values()
    }
    # The pseudonym key is no credential but what counts are kept under: a
    # new one restarts every count, so it is replaced only if it leaks. The
    # SMTP login is issued, and rotated, by the mail provider.
    unrotated = {"PseudonymKeySecret", "SmtpCredentialsSecret"}
    for name, secret in secrets.items():
        assert secret["KmsKeyId"] == {"Ref": "SecretsKey"}, name
        assert (name in rotated) != (name in unrotated), f"{name}: rotated {name in rotated}"
    for name in ("ApiDatabaseSecretRotation", "PipelineDatabaseSecretRotation"):
        hosted = DATA["Resources"][name]["Properties"]["HostedRotationLambda"]
        # alternating users: the previous password keeps working for a period
        assert hosted["RotationType"] == "PostgreSQLMultiUser"


# --- the JWT rotation function (run in node) ---------------------------------------


@pytest.fixture(scope="module")
def jwt_module(tmp_path_factory):
    if NODE is None:
        pytest.skip("node is not installed")
    code = DATA["Resources"]["JwtRotationFunction"]["Properties"]["Code"]["ZipFile"]
    assert len(code.encode()) <= 4096, "inline Lambda code is limited to 4096 bytes"
    path = tmp_path_factory.mktemp("jwt") / "index.js"
    path.write_text(code)
    return path


def run_node(module: pathlib.Path, body: str):
    script = f"const m = require({json.dumps(str(module))});\n{body}"
    out = subprocess.run([NODE, "-e", script], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def test_jwt_rotation_goes_bootstrap_stage_wait_promote(jwt_module):
    steps = run_node(
        jwt_module,
        """
        let n = 0; const gen = () => 'K' + (++n);
        const DAY = 86400000;
        const s0 = {current: '', previous: '', pending: '', staged_at: 0};
        const s1 = m.nextKeys(s0, 0, gen);             // bootstrap
        const s2 = m.nextKeys(s1, 10 * DAY, gen);      // stage
        const s3 = m.nextKeys(s2, 13 * DAY, gen);      // too early: unchanged
        const s4 = m.nextKeys(s3, 24 * DAY, gen);      // promote
        const s5 = m.nextKeys(s4, 38 * DAY, gen);      // stage again
        console.log(JSON.stringify([s1, s2, s3, s4, s5]));
        """,
    )
    s1, s2, s3, s4, s5 = steps
    assert s1["current"] == "K1" and s1["pending"] == ""
    assert s2["current"] == "K1" and s2["pending"] == "K2"
    assert s3 == s2
    assert s4["current"] == "K2" and s4["previous"] == "K1" and s4["pending"] == ""
    assert s5["current"] == "K2" and s5["pending"] == "K3"


def test_jwt_rotation_makes_ed25519_pkcs8_keys(jwt_module):
    key = run_node(
        jwt_module,
        "const k = m.newKey();\n"
        "const t = require('crypto').createPrivateKey(k).asymmetricKeyType;\n"
        "console.log(JSON.stringify({k, t}));",
    )
    assert key["t"] == "ed25519"
    assert key["k"].startswith("-----BEGIN PRIVATE KEY-----")


# --- CI role ---------------------------------------------------------------------------

ALLOWED_CI_ACTIONS = {
    "s3:ListBucket",
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "cloudfront:CreateInvalidation",
    "cloudwatch:PutMetricData",
}


def ci_statements():
    role = resources(CI, "AWS::IAM::Role")["PublishRole"]
    assert "ManagedPolicyArns" not in role
    return [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]


def test_ci_role_is_assumable_only_from_the_repository_ref():
    role = resources(CI, "AWS::IAM::Role")["PublishRole"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    cond = trust["Condition"]
    assert set(cond) == {"StringEquals"}, "StringLike would allow wildcards"
    assert cond["StringEquals"]["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    sub = cond["StringEquals"]["token.actions.githubusercontent.com:sub"]
    assert sub == {"Fn::Sub": "repo:${GitHubRepository}:ref:${GitHubRef}"}


def test_ci_role_touches_one_bucket_and_one_distribution_only():
    statements = ci_statements()
    actions = set()
    for s in statements:
        assert s["Effect"] == "Allow"
        acts = set(listify(s["Action"]))
        actions |= acts
        assert not any("*" in a for a in acts), acts
        if acts & {"s3:ListBucket"}:
            assert acts == {"s3:ListBucket"}
            assert s["Resource"] == {"Fn::ImportValue": {"Fn::Sub": "whatever-${Environment}-SiteBucketArn"}}
        elif s.get("Sid") == "ReadNightlyDelta":
            # The delta bucket: read, nothing else, under the configured prefix.
            assert acts == {"s3:GetObject"}
            assert s["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:s3:::${DeltaBucketName}/${DeltaKeyPrefix}*"}
        elif any(a.startswith("s3:") for a in acts):
            assert acts <= {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
            assert mentions(s["Resource"], "SiteBucketArn") and mentions(s["Resource"], "/*")
        elif acts == {"cloudfront:CreateInvalidation"}:
            assert mentions(s["Resource"], ":distribution/${Id}")
            assert mentions(s["Resource"], "DistributionId")
        else:
            assert acts == {"cloudwatch:PutMetricData"}
            assert s["Condition"] == {"StringEquals": {"cloudwatch:namespace": "WhateverGov/Pipeline"}}
        if s["Resource"] == "*":
            assert acts == {"cloudwatch:PutMetricData"}, "only PutMetricData may use *, pinned by namespace"
    assert actions == ALLOWED_CI_ACTIONS


# --- the container entrypoint ----------------------------------------------------------

ENTRYPOINT = DOCKER / "entrypoint"
needs_jq = pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")

PEM_A = "-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----"
PEM_B = "-----BEGIN PRIVATE KEY-----\nBBB\n-----END PRIVATE KEY-----"
PEM_C = "-----BEGIN PRIVATE KEY-----\nCCC\n-----END PRIVATE KEY-----"


def run_entrypoint(env: dict, *command: str) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"]}
    return subprocess.run(
        ["bash", str(ENTRYPOINT), *command], env={**base, **env}, capture_output=True, text=True
    )


DUMP = (
    "bash",
    "-c",
    'printf "%s\\n" "${DATABASE_URL-unset}" "${JWT_SIGNING_KEY_FILE-unset}" '
    '"${JWT_PREVIOUS_KEY_FILE-unset}" "${DB_SECRET_JSON-unset}" "${JWT_KEYS_JSON-unset}" '
    '"${MASTER_DB_SECRET_JSON-unset}"',
)


@needs_jq
def test_entrypoint_builds_the_connection_string_and_key_files(tmp_path):
    db = {"host": "db.internal", "port": 5432, "dbname": "whatever", "username": "whatever_api",
          "password": "p'a\\ss w%rd", "engine": "postgres"}
    keys = {"current": PEM_A, "previous": PEM_B, "pending": PEM_C, "staged_at": 1}
    result = run_entrypoint(
        {"DB_SECRET_JSON": json.dumps(db), "JWT_KEYS_JSON": json.dumps(keys),
         "MASTER_DB_SECRET_JSON": "{}", "SECRETS_DIR": str(tmp_path / "s"), "APP_NAME": "auth-api"},
        *DUMP,
    )
    assert result.returncode == 0, result.stderr
    url, signing, previous, db_json, keys_json, master = result.stdout.splitlines()
    assert url == (
        "host='db.internal' port='5432' dbname='whatever' user='whatever_api' "
        "password='p\\'a\\\\ss w%rd' application_name='auth-api' sslmode='require'"
    )
    assert pathlib.Path(signing).read_text() == PEM_A + "\n"
    # while a key is staged, tokens it signs elsewhere must verify here
    assert pathlib.Path(previous).read_text() == PEM_C + "\n"
    assert stat.S_IMODE(os.stat(signing).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "s").st_mode) == 0o700
    assert (db_json, keys_json, master) == ("unset", "unset", "unset"), "raw secrets leak to the binary"


@needs_jq
def test_entrypoint_verifies_with_previous_when_nothing_is_staged(tmp_path):
    keys = {"current": PEM_A, "previous": PEM_B, "pending": ""}
    result = run_entrypoint({"JWT_KEYS_JSON": json.dumps(keys), "SECRETS_DIR": str(tmp_path)}, *DUMP)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "unset"
    assert pathlib.Path(lines[2]).read_text() == PEM_B + "\n"


@needs_jq
def test_entrypoint_without_previous_key_sets_no_previous_file(tmp_path):
    keys = {"current": PEM_A, "previous": "", "pending": ""}
    result = run_entrypoint({"JWT_KEYS_JSON": json.dumps(keys), "SECRETS_DIR": str(tmp_path)}, *DUMP)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2] == "unset"


def test_entrypoint_writes_the_pseudonym_key_to_a_file_only_we_can_read(tmp_path):
    secret = "k7Qx2mVb9TzR4nLp8sWc1yHd6fJg3aEu5oKi0qXrZtNv"
    dump = ("bash", "-c", 'printf "%s\\n" "${PSEUDONYM_KEY_FILE-unset}" "${PSEUDONYM_KEY_SECRET-unset}"')
    result = run_entrypoint({"PSEUDONYM_KEY_SECRET": secret, "SECRETS_DIR": str(tmp_path / "s")}, *dump)
    assert result.returncode == 0, result.stderr
    path, raw = result.stdout.splitlines()
    assert pathlib.Path(path).read_text() == secret + "\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert raw == "unset", "the raw secret leaks to the binary"
    assert secret not in result.stderr
    # Without the secret nothing is set, and the API decides (APP_ENV).
    result = run_entrypoint({"SECRETS_DIR": str(tmp_path / "t")}, *dump)
    assert result.stdout.splitlines() == ["unset", "unset"]


SMTP_DUMP = ("bash", "-c", 'printf "%s\\n" "${SMTP_URL-unset}" "${SMTP_CREDENTIALS_JSON-unset}"')


@needs_jq
def test_entrypoint_puts_the_smtp_credentials_in_the_url_percent_encoded():
    credentials = {"username": "AKIA+user@ses", "password": "p@ss:w/rd%?#&= é"}
    result = run_entrypoint(
        {"SMTP_URL": "smtps://email-smtp.us-east-1.amazonaws.com:465",
         "SMTP_CREDENTIALS_JSON": json.dumps(credentials)},
        *SMTP_DUMP,
    )
    assert result.returncode == 0, result.stderr
    url, raw = result.stdout.splitlines()
    assert raw == "unset", "the raw secret leaks to the binary"
    parsed = urllib.parse.urlsplit(url)
    assert (parsed.scheme, parsed.hostname, parsed.port) == ("smtps", "email-smtp.us-east-1.amazonaws.com", 465)
    assert urllib.parse.unquote(parsed.username) == credentials["username"]
    assert urllib.parse.unquote(parsed.password) == credentials["password"]
    # Nothing in the user part that a URL parser could take for a delimiter.
    assert set(url.split("://")[1].rsplit("@", 1)[0]) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%:"
    )
    assert credentials["password"] not in result.stderr
    # Without the secret the URL is left as it was.
    result = run_entrypoint({"SMTP_URL": "smtp://127.0.0.1:1025"}, *SMTP_DUMP)
    assert result.stdout.splitlines() == ["smtp://127.0.0.1:1025", "unset"]


@needs_jq
@pytest.mark.parametrize(
    "env",
    [
        {"SMTP_URL": "smtps://smtp.example.gov:465", "SMTP_CREDENTIALS_JSON": '{"username":"","password":""}'},
        {"SMTP_URL": "smtps://smtp.example.gov:465", "SMTP_CREDENTIALS_JSON": '{"username":"u"}'},
        {"SMTP_URL": "smtps://a:b@smtp.example.gov:465", "SMTP_CREDENTIALS_JSON": '{"username":"u","password":"p"}'},
        {"SMTP_CREDENTIALS_JSON": '{"username":"u","password":"p"}'},
    ],
    ids=["never-set", "no-password", "url-has-credentials", "no-url"],
)
def test_entrypoint_refuses_smtp_credentials_it_cannot_use(env):
    result = run_entrypoint(env, "true")
    assert result.returncode != 0
    assert "entrypoint:" in result.stderr


@needs_jq
@pytest.mark.parametrize(
    "env",
    [
        {"JWT_KEYS_JSON": '{"current":"","previous":"","pending":""}'},
        {"DB_SECRET_JSON": '{"host":"h","port":5432,"dbname":"d","username":"u"}'},
    ],
    ids=["no-current-key", "no-password"],
)
def test_entrypoint_refuses_incomplete_secrets(tmp_path, env):
    result = run_entrypoint({**env, "SECRETS_DIR": str(tmp_path)}, "true")
    assert result.returncode != 0
    assert "entrypoint:" in result.stderr


# --- the database bootstrap, on a throwaway Postgres -----------------------------------


def _pg_bin() -> pathlib.Path | None:
    for candidate in sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return pathlib.Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def throwaway_postgres():
    """A private cluster on a Unix socket, with an RDS-like master user."""
    pg_bin = _pg_bin()
    if pg_bin is None or shutil.which("psql") is None or shutil.which("jq") is None:
        pytest.skip("Postgres server binaries, psql or jq not installed")
    as_user: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser")
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user")
        as_user = ["runuser", "-u", "postgres", "--"]
    root = pathlib.Path(tempfile.mkdtemp(prefix="whatever-bootstrap-"))
    root.chmod(0o777)
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    sock.chmod(0o777)
    port = _free_port()
    subprocess.run([*as_user, str(pg_bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    subprocess.run(
        [*as_user, str(pg_bin / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"),
         "-o", f"-p {port} -k {sock} -c listen_addresses=''", "start"],
        check=True, capture_output=True,
    )
    env = {"PGHOST": str(sock), "PGPORT": str(port)}

    def psql(sql: str, user: str = "postgres", db: str = "postgres", check: bool = True):
        return subprocess.run(
            ["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-U", user, "-d", db, "-c", sql],
            env={**os.environ, **env}, capture_output=True, text=True, check=check,
        )

    # As on RDS: the master can create roles and databases but is no superuser.
    psql("CREATE ROLE whatever_admin LOGIN CREATEROLE CREATEDB")
    psql("CREATE DATABASE whatever OWNER whatever_admin")
    try:
        yield env, psql
    finally:
        subprocess.run([*as_user, str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _secret_username(resource: str) -> str:
    template = DATA["Resources"][resource]["Properties"]["GenerateSecretString"]["SecretStringTemplate"]
    return json.loads(template["Fn::Sub"][0].replace("${Master}", "arn"))["username"]


MIGRATIONS = sorted((INFRA.parent / "migrations").glob("V*__*.sql"), key=lambda p: int(p.name[1:].split("__")[0]))


def test_bootstrap_and_migrations_give_each_login_only_its_own_privileges(throwaway_postgres):
    env, psql = throwaway_postgres
    # the users the templates' secrets hold are the ones the bootstrap sets up
    api_user = _secret_username("ApiDatabaseSecret")
    pipeline_user = _secret_username("PipelineDatabaseSecret")
    assert (api_user, pipeline_user) == ("whatever_api", "whatever_pipeline")
    secret = {"host": env["PGHOST"], "port": int(env["PGPORT"]), "dbname": "whatever"}
    # An instance bootstrapped by the earlier script: every login a member of the owner.
    psql("CREATE ROLE whatever_app NOLOGIN")
    psql(f"CREATE ROLE {api_user} LOGIN IN ROLE whatever_app")
    run_env = {
        "MASTER_DB_SECRET_JSON": json.dumps({"username": "whatever_admin", "password": "m"}),
        "API_DB_SECRET_JSON": json.dumps({**secret, "username": api_user, "password": "a1"}),
        "DB_SECRET_JSON": json.dumps({**secret, "username": pipeline_user + "_clone", "password": "p1"}),
        "BOOTSTRAP_SQL": str(DOCKER / "bootstrap-roles.sql"),
        "SKIP_MIGRATE": "1",
        "PATH": f"{DOCKER}:{os.environ['PATH']}",
    }
    for _ in range(2):  # idempotent: a second run changes nothing and succeeds
        result = subprocess.run(["bash", str(ENTRYPOINT), "bootstrap-db"], env=run_env,
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr

    roles = psql("SELECT rolname FROM pg_roles WHERE rolname LIKE 'whatever_%' ORDER BY 1").stdout.split()
    assert roles == ["whatever_admin", "whatever_api", "whatever_api_clone", "whatever_api_role",
                     "whatever_app", "whatever_build_role", "whatever_pipeline", "whatever_pipeline_clone",
                     "whatever_sync_role"]
    members = psql("SELECT r.rolname || ':' || string_agg(g.rolname, ',' ORDER BY g.rolname) "
                   "FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
                   "JOIN pg_roles g ON g.oid = m.roleid WHERE r.rolname LIKE 'whatever_%' "
                   "GROUP BY r.rolname ORDER BY 1").stdout.split()
    groups = "whatever_app,whatever_build_role,whatever_sync_role"
    assert members == [
        "whatever_admin:whatever_app",
        "whatever_api:whatever_api_role",  # no longer the owner
        "whatever_api_clone:whatever_api_role",
        f"whatever_pipeline:{groups}",
        f"whatever_pipeline_clone:{groups}",
    ]
    # the secret's current users got their passwords; the others cannot log in yet
    with_password = psql("SELECT rolname FROM pg_authid WHERE rolpassword IS NOT NULL "
                         "AND rolname LIKE 'whatever_%' ORDER BY 1").stdout.split()
    assert with_password == ["whatever_api", "whatever_pipeline_clone"]
    assert psql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'whatever'").stdout.strip() == "whatever_app"

    # The deploy step: every migration, as bootstrap-db runs them (the
    # pipeline's login acting as the owner, which may not create roles: the
    # migrations' grants work only because the bootstrap made their roles).
    as_owner = "-c role=whatever_app"

    def run(sql_or_file, user, options="", check=True):
        args = ["-f", str(sql_or_file)] if isinstance(sql_or_file, pathlib.Path) else ["-c", sql_or_file]
        return subprocess.run(
            ["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-U", user, "-d", "whatever", *args],
            env={**os.environ, **env, "PGOPTIONS": options}, capture_output=True, text=True, check=check,
        )

    run("CREATE TABLE refinery_schema_history (version int PRIMARY KEY)", "whatever_pipeline", as_owner)
    for migration in MIGRATIONS:
        result = run(migration, "whatever_pipeline_clone", as_owner, check=False)
        assert result.returncode == 0, f"{migration.name}: {result.stderr}"
    assert run("SELECT tableowner FROM pg_tables WHERE tablename = 'beneficiary'", "whatever_admin").stdout.strip() == "whatever_app"

    def denied(sql, user, options=""):
        result = run(sql, user, options, check=False)
        return result.returncode != 0 and ("permission denied" in result.stderr or "must be owner" in result.stderr)

    seed_plan = ("INSERT INTO plan (plan_id, plan_name, insurer_name, status, avg_monthly_cost, "
                 "avg_copay_amount, annual_deductible) VALUES ('S5601-012-0', 'n', 'i', 'active', 1, 2, 3)")
    # the pipeline acts as the sync role by default: data, no DDL
    run(seed_plan, "whatever_pipeline")
    run("INSERT INTO beneficiary (beneficiary_id, ssn) VALUES (1, '078-05-1120')", "whatever_pipeline_clone")
    assert denied("ALTER TABLE plan ADD COLUMN note text", "whatever_pipeline")
    assert denied("SELECT count(*) FROM login_failure", "whatever_pipeline")
    # the build reads the catalog and writes nothing
    build = "-c role=whatever_build_role"
    assert run("SELECT count(*) FROM plan", "whatever_pipeline", build).stdout.strip() == "1"
    assert denied("UPDATE plan SET plan_name = 'x'", "whatever_pipeline", build)
    assert denied("CREATE TABLE scratch (i int)", "whatever_pipeline", build)
    assert denied("SELECT count(*) FROM beneficiary", "whatever_pipeline", build)
    # the API (either alternate): its own state, the beneficiary without the SSN, no DDL
    for api in ("whatever_api", "whatever_api_clone"):
        assert run("SELECT fname, zip_code FROM beneficiary", api).returncode == 0
        assert denied("SELECT ssn FROM beneficiary", api)
        assert denied("SELECT * FROM beneficiary", api)
        assert denied("UPDATE plan SET plan_name = 'x'", api)
        assert denied("ALTER TABLE plan ADD COLUMN note text", api)
        assert denied("CREATE TABLE scratch (i int)", api)
        assert denied("DROP TABLE login_failure", api)
        run("INSERT INTO login_failure (account, client_addr) VALUES (NULL, '192.0.2.1')", api)
        # asking to act as the owner is refused: it is not a member
        assert denied("SELECT 1", api, as_owner)
    # and a role outside the scheme cannot even connect
    psql("CREATE ROLE outsider LOGIN")
    refused = psql("SELECT 1", user="outsider", db="whatever", check=False)
    assert refused.returncode != 0 and "permission denied" in refused.stderr


# --- rolling the bucket back to a moment (S3 versioning) ----------------------------


def load_rollback_site():
    """infra/rollback-site is a script without .py: load it as a module."""
    pytest.importorskip("boto3")
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader("rollback_site", str(INFRA / "rollback-site"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("rollback_site", loader))
    loader.exec_module(module)
    return module


def test_rollback_site_returns_every_key_to_its_version_at_that_moment(monkeypatch, capsys):
    moto = pytest.importorskip("moto")
    boto3 = pytest.importorskip("boto3")
    import datetime as dt
    import time

    rollback = load_rollback_site()

    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with moto.mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="site")
        s3.put_bucket_versioning(Bucket="site", VersioningConfiguration={"Status": "Enabled"})

        def put(key, body):
            s3.put_object(Bucket="site", Key=key, Body=body.encode(), ContentType="text/html",
                          CacheControl="max-age=60")

        # the good publish
        put("index.html", "home v1")
        put("zip/02134/index.html", "zip v1")
        put("plans/A/index.html", "plan A")
        put("_publish/manifest.json", "manifest v1")
        time.sleep(1.1)
        good = dt.datetime.now(dt.timezone.utc)
        time.sleep(1.1)
        # the bad publish: a change, a new page, a removed page, a new manifest
        put("zip/02134/index.html", "zip BROKEN")
        put("plans/B/index.html", "plan B")
        s3.delete_object(Bucket="site", Key="plans/A/index.html")
        put("_publish/manifest.json", "manifest v2")

        assert rollback.main(["--bucket", "site", "--to", good.isoformat(), "--dry-run"]) == 0
        assert s3.get_object(Bucket="site", Key="zip/02134/index.html")["Body"].read() == b"zip BROKEN"

        assert rollback.main(["--bucket", "site", "--to", good.isoformat()]) == 0
        summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert summary["restored"] == 3 and summary["deleted"] == 1

        def body(key):
            return s3.get_object(Bucket="site", Key=key)["Body"].read().decode()

        assert body("index.html") == "home v1"
        assert body("zip/02134/index.html") == "zip v1"
        assert body("plans/A/index.html") == "plan A"
        assert body("_publish/manifest.json") == "manifest v1"
        head = s3.head_object(Bucket="site", Key="zip/02134/index.html")
        assert head["ContentType"] == "text/html" and head["CacheControl"] == "max-age=60"
        with pytest.raises(s3.exceptions.ClientError):
            s3.head_object(Bucket="site", Key="plans/B/index.html")

        # a second run finds nothing to do
        assert rollback.main(["--bucket", "site", "--to", good.isoformat()]) == 0
        again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert again["planned"] == 0


def test_rollback_site_restores_the_manifest_first_and_deletes_last():
    rollback_plan = load_rollback_site().plan
    import datetime as dt

    t = lambda s: dt.datetime(2026, 1, 1, 0, 0, s, tzinfo=dt.timezone.utc)  # noqa: E731
    v = lambda key, vid, s, latest, kind="version": {  # noqa: E731
        "Key": key, "VersionId": vid, "ETag": f'"{vid}"', "LastModified": t(s), "IsLatest": latest, "kind": kind}
    history = {
        "a.html": [v("a.html", "a2", 20, True), v("a.html", "a1", 5, False)],
        "new.html": [v("new.html", "n1", 20, True)],
        "_publish/manifest.json": [v("_publish/manifest.json", "m2", 20, True),
                                   v("_publish/manifest.json", "m1", 5, False)],
        "same.html": [v("same.html", "s1", 5, True)],
    }
    assert rollback_plan(history, t(10)) == [
        ("restore", "_publish/manifest.json", "m1"),
        ("restore", "a.html", "a1"),
        ("delete", "new.html", None),
    ]
