# CircleCI's OIDC identity provider and a role the pipeline of one project
# can assume from the master or staging branch only. The role can push to
# this environment's repository (payments/<environment>), record the deployed
# tag, and run the deploy on this environment's web servers through SSM Run
# Command. Nothing else: these are exactly the AWS calls of scripts/push-image
# and scripts/deploy-ec2 (checked by infrastructure/tests, pipeline_contract).
#
# The trust is checked on the subject of $CIRCLE_OIDC_TOKEN_V2:
#   org/<org>/project/<project>/user/<user>/vcs-origin/<repo>/vcs-ref/refs/heads/<branch>
# so the pipeline must exchange that token (not $CIRCLE_OIDC_TOKEN, whose
# subject carries no branch).

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition

  issuer_host  = "oidc.circleci.com/org/${var.circleci_organization_id}"
  provider_arn = data.aws_iam_openid_connect_provider.circleci.arn

  allowed_subjects = [
    for branch in var.allowed_branches :
    "org/${var.circleci_organization_id}/project/${var.circleci_project_id}/user/*/vcs-origin/*/vcs-ref/refs/heads/${branch}"
  ]
}

# The identity provider exists once per account and belongs to
# infrastructure/bootstrap; every environment only looks it up, so they can
# be applied and destroyed in any order.
data "aws_iam_openid_connect_provider" "circleci" {
  url = "https://${local.issuer_host}"
}

# The one command the pipeline may run on the web servers: the swap script
# with an image of this environment's repository, by tag or digest. Nothing
# else can be passed: the parameter is checked against the pattern before
# the command reaches a host.
resource "aws_ssm_document" "swap" {
  name            = "payments-${var.environment}-swap"
  document_type   = "Command"
  document_format = "JSON"
  tags            = var.tags

  content = jsonencode({
    schemaVersion = "2.2"
    description   = "Deploy an image of payments/${var.environment} on this host with payments-swap (deploy/ec2/swap-container.sh)"
    parameters = {
      ImageUri = {
        type           = "String"
        description    = "Image to run: <account>.dkr.ecr.<region>.amazonaws.com/payments/${var.environment}:<tag> or @sha256:<digest>"
        allowedPattern = "^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com/[a-z0-9._/-]+(:[A-Za-z0-9._-]{1,128}(@sha256:[a-f0-9]{64})?|@sha256:[a-f0-9]{64})$"
      }
    }
    mainSteps = [
      {
        action = "aws:runShellScript"
        name   = "swap"
        inputs = {
          timeoutSeconds = "900"
          runCommand     = ["/usr/local/bin/payments-swap {{ ImageUri }}"]
        }
      },
    ]
  })
}

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "CircleCiProjectOnReleaseBranches"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.issuer_host}:aud"
      values   = [var.circleci_organization_id]
    }

    condition {
      test     = "StringLike"
      variable = "${local.issuer_host}:sub"
      values   = local.allowed_subjects
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = "${var.name}-circleci"
  description          = "Delivery pipeline of payments (CircleCI) for ${var.environment}"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = var.max_session_duration_seconds
  tags                 = var.tags
}

data "aws_iam_policy_document" "pipeline" {
  # Registry login has no resource-level permissions.
  statement {
    sid       = "RegistryLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PushTheAppImage"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [var.ecr_repository_arn]
  }

  statement {
    sid       = "RecordTheDeployedImageTag"
    actions   = ["ssm:GetParameter", "ssm:PutParameter"]
    resources = [var.image_tag_parameter_arn]
  }

  # scripts/deploy-ec2 serialises deploys of an environment with a lock
  # parameter: a put without --overwrite is a conditional create.
  statement {
    sid       = "HoldTheDeployLock"
    actions   = ["ssm:DeleteParameter", "ssm:GetParameter", "ssm:PutParameter"]
    resources = ["arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter/payments/${var.environment}/deploy-lock"]
  }

  statement {
    sid       = "RunTheSwapDocument"
    actions   = ["ssm:SendCommand"]
    resources = [aws_ssm_document.swap.arn]
  }

  statement {
    sid       = "OnThisEnvironmentsWebServersOnly"
    actions   = ["ssm:SendCommand"]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:instance/*"]

    condition {
      test     = "StringEquals"
      variable = "ssm:resourceTag/Service"
      values   = ["payments"]
    }

    condition {
      test     = "StringEquals"
      variable = "ssm:resourceTag/Environment"
      values   = [var.environment]
    }
  }

  # Following a command, finding the hosts and their target group, and
  # waiting for the load balancer to see a host healthy (scripts/deploy-ec2):
  # read-only calls that have no resource-level permissions.
  statement {
    sid = "FollowCommandsAndFindHosts"
    actions = [
      "ssm:GetCommandInvocation",
      "ec2:DescribeInstances",
      "elasticloadbalancing:DescribeTags",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetHealth",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "pipeline" {
  name   = "payments-delivery"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.pipeline.json
}
