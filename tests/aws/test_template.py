"""The SAM template keeps the promises cfn-lint cannot check (make deploy-check).

It names the resources `leadflow aws init` creates (src/leadflow/aws/resources.py), with
the Prefix parameter; queues give their consumers 6x the function timeout; tables have
point-in-time recovery; the bucket blocks public access and expires uploads and results;
each function has its own policies, none with a wildcard action; every handler and every
${...} of the state machines exists.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

from leadflow.aws import resources as names
from leadflow.aws.init import table_request

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "aws"
PREFIX = "${Prefix}"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    decoded, problems = decode(str(DEPLOY / "template.yaml"))
    assert problems == []
    assert decoded is not None
    return json.loads(json.dumps(decoded))  # plain dicts and lists


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def sub(value: Any) -> str:
    assert isinstance(value, dict) and "Fn::Sub" in value, value
    text = value["Fn::Sub"]
    assert isinstance(text, str)
    return text


def test_tables_are_the_ones_aws_init_creates(template: dict[str, Any]) -> None:
    tables = {
        sub(t["Properties"]["TableName"]): t["Properties"]
        for t in of_type(template, "AWS::DynamoDB::Table").values()
    }
    assert set(tables) == {names.table_name(PREFIX, suffix) for suffix in names.TABLES}
    for suffix, spec in names.TABLES.items():
        table = tables[names.table_name(PREFIX, suffix)]
        request = table_request(table["TableName"], spec)  # what `aws init` sends
        for field in ("KeySchema", "BillingMode"):
            assert table[field] == request[field], (suffix, field)
        assert sorted(table["AttributeDefinitions"], key=str) == sorted(
            request["AttributeDefinitions"], key=str
        )
        assert table.get("GlobalSecondaryIndexes") == request.get("GlobalSecondaryIndexes")
        ttl = table.get("TimeToLiveSpecification")
        assert (ttl["AttributeName"] if ttl else None) == spec.ttl_attribute
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_functions_that_write_leads_reach_the_whole_aggregate(template: dict[str, Any]) -> None:
    aggregate = {"LeadsTable", "LeadKeysTable", "LeadAuditTable", "ImportRowsTable"}
    for logical, function in of_type(template, "AWS::Serverless::Function").items():
        if logical == "SweeperFunction":  # forgets an import's rows, writes no lead
            continue
        tables = {
            p["DynamoDBCrudPolicy"]["TableName"]["Ref"]
            for p in function["Properties"]["Policies"]
            if "DynamoDBCrudPolicy" in p
        }
        assert not tables & aggregate or aggregate <= tables, logical


def test_leads_have_the_email_index_keyed_by_owner_and_email(template: dict[str, Any]) -> None:
    leads = template["Resources"]["LeadsTable"]["Properties"]
    (index,) = [i for i in leads["GlobalSecondaryIndexes"] if i["IndexName"] == "EmailIndex"]
    assert index["KeySchema"] == [
        {"AttributeName": "owner", "KeyType": "HASH"},
        {"AttributeName": "email", "KeyType": "RANGE"},
    ]


def test_queues_and_their_redrive(template: dict[str, Any]) -> None:
    queues = of_type(template, "AWS::SQS::Queue")
    by_name = {sub(q["Properties"]["QueueName"]): (k, q["Properties"]) for k, q in queues.items()}
    assert set(by_name) == {names.queue_name(PREFIX, q) for q in names.QUEUES}
    for queue, dlq in names.REDRIVES.items():
        _, props = by_name[names.queue_name(PREFIX, queue)]
        dlq_id, _ = by_name[names.queue_name(PREFIX, dlq)]
        assert props["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
            "maxReceiveCount": {"Ref": "MaxReceiveCount"},
        }
    assert template["Parameters"]["MaxReceiveCount"]["Default"] == 3


def test_visibility_timeout_is_six_times_the_consumers_timeout(template: dict[str, Any]) -> None:
    default_timeout = template["Globals"]["Function"]["Timeout"]
    queues = of_type(template, "AWS::SQS::Queue")
    consumers = 0
    for function in of_type(template, "AWS::Serverless::Function").values():
        props = function["Properties"]
        for event in props.get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            consumers += 1
            queue_id = event["Properties"]["Queue"]["Fn::GetAtt"][0]
            visibility = queues[queue_id]["Properties"]["VisibilityTimeout"]
            assert visibility >= 6 * props.get("Timeout", default_timeout)
            assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert consumers == 2  # the worker (jobs) and the inbox


def test_bucket_is_private_expires_files_and_notifies_the_inbox(template: dict[str, Any]) -> None:
    (bucket,) = of_type(template, "AWS::S3::Bucket").values()
    props = bucket["Properties"]
    assert sub(props["BucketName"]) == names.bucket_name(PREFIX)
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    expiring = {
        r["Prefix"] for r in props["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in r
    }
    assert expiring == set(names.LIFECYCLE_DAYS)
    notified = [
        (c["Queue"], c["Filter"]["S3Key"]["Rules"])
        for c in props["NotificationConfiguration"]["QueueConfigurations"]
    ]
    assert notified == [
        ({"Fn::GetAtt": ["InboxQueue", "Arn"]}, [{"Name": "prefix", "Value": p}])
        for p in names.INBOX_PREFIXES
    ]


def test_every_named_resource_starts_with_the_prefix(template: dict[str, Any]) -> None:
    name_fields = (
        "TableName", "QueueName", "BucketName", "TopicName", "FunctionName", "Name",
        "UserPoolName", "ClientName", "AlarmName",
    )  # fmt: skip
    seen = 0
    for logical, resource in template["Resources"].items():
        for field in name_fields:
            if field in resource.get("Properties", {}):
                seen += 1
                assert sub(resource["Properties"][field]).startswith(PREFIX), logical
    assert seen >= 30


def test_every_function_has_its_own_least_privilege_policies(template: dict[str, Any]) -> None:
    functions = of_type(template, "AWS::Serverless::Function")
    assert len(functions) == 12
    for logical, function in functions.items():
        policies = function["Properties"]["Policies"]
        assert isinstance(policies, list), logical  # never a shared or managed admin role
        for policy in policies:
            assert not isinstance(policy, str), f"{logical}: managed policy {policy}"
            for statement in policy.get("Statement", []):
                assert "*" not in statement["Action"], logical
    worker = functions["WorkerFunction"]["Properties"]["Policies"]
    assert {"DynamoDBCrudPolicy": {"TableName": {"Ref": "UsersTable"}}} not in worker
    secret_only = [{"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "SecretKey"}}}]
    assert functions["OptinValidateFunction"]["Properties"]["Policies"] == secret_only
    assert functions["AlarmFunction"]["Properties"]["Policies"] == []  # only posts to Slack


def test_every_function_with_services_can_read_the_signing_key(template: dict[str, Any]) -> None:
    """bootstrap reads the key on AWS: every handler that builds services needs it."""
    read = {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "SecretKey"}}}
    for logical, function in of_type(template, "AWS::Serverless::Function").items():
        module = function["Properties"]["Handler"].rpartition(".")[0]
        uses_services = "runtime" in vars(importlib.import_module(module))
        assert (read in function["Properties"]["Policies"]) == uses_services, logical


def test_every_function_is_built_by_the_makefile(template: dict[str, Any]) -> None:
    makefile = (DEPLOY.parents[1] / "Makefile").read_text()
    listed = re.search(r"LAMBDA_FUNCTIONS := ((?:.|\\\n)*?)\n\n", makefile)
    assert listed is not None
    built = set(listed.group(1).replace("\\", " ").split())
    assert built == set(of_type(template, "AWS::Serverless::Function"))


def test_every_handler_exists(template: dict[str, Any]) -> None:
    for logical, function in of_type(template, "AWS::Serverless::Function").items():
        module, _, name = function["Properties"]["Handler"].rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), logical


def test_state_machines_get_every_substitution_they_use(template: dict[str, Any]) -> None:
    machines = of_type(template, "AWS::Serverless::StateMachine")
    assert {m["Properties"]["DefinitionUri"] for m in machines.values()} == {
        p.name for p in DEPLOY.glob("*.asl.json")
    }
    for machine in machines.values():
        props = machine["Properties"]
        used = set(re.findall(r"\$\{(\w+)\}", (DEPLOY / props["DefinitionUri"]).read_text()))
        assert used == set(props["DefinitionSubstitutions"])


def test_dlq_alarm_goes_to_the_topic_and_slack(template: dict[str, Any]) -> None:
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) == 2
    for alarm in alarms.values():
        props = alarm["Properties"]
        assert props["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert props["Threshold"] == {"Ref": "DlqAlarmThreshold"}
        assert props["ComparisonOperator"] == "GreaterThanThreshold"
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    (topic,) = of_type(template, "AWS::SNS::Topic").values()
    assert sub(topic["Properties"]["TopicName"]) == names.topic_name(PREFIX)
    events = template["Resources"]["AlarmFunction"]["Properties"]["Events"]
    assert events["Alarm"] == {"Type": "SNS", "Properties": {"Topic": {"Ref": "AlarmTopic"}}}


def test_secret_and_cognito(template: dict[str, Any]) -> None:
    secret = template["Resources"]["SecretKey"]["Properties"]
    assert sub(secret["Name"]) == names.secret_name(PREFIX)
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["LEADFLOW_SECRET_KEY_SECRET_ID"] == {"Ref": "SecretKey"}
    assert env["LEADFLOW_AWS_PREFIX"] == {"Ref": "Prefix"}
    assert env["LEADFLOW_COGNITO_USER_POOL_ID"] == {"Ref": "UserPool"}
    assert env["LEADFLOW_COGNITO_CLIENT_ID"] == {"Ref": "UserPoolClient"}
    assert "LEADFLOW_SECRET_KEY" not in env  # never a key in plain text
