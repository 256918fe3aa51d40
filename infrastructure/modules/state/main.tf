# Remote state for every environment: one versioned, KMS-encrypted bucket
# that refuses public access and plain HTTP, with server access logs in a
# companion bucket. Locking uses S3 itself (use_lockfile = true in each
# backend writes <key>.tflock next to the state with a conditional put), so
# no DynamoDB table is needed.

data "aws_caller_identity" "current" {}

module "key" {
  source = "../kms"

  name                  = var.kms_key_alias
  description           = "Encrypts the Terraform state of payments"
  allow_cloudwatch_logs = false
  tags                  = var.tags
}

resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_144:Versioning keeps every earlier state in this region; a regional S3 outage blocks applies but not the running site, so a cross-region replica is not worth its upkeep.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to state writes; the access logs record them.
  bucket        = var.bucket_name
  force_destroy = false
  tags          = merge(var.tags, { Name = var.bucket_name })
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    bucket_key_enabled = true

    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = module.key.key_arn
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "expire-old-state-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_logging" "state" {
  bucket        = aws_s3_bucket.state.id
  target_bucket = module.access_logs.bucket_name
  target_prefix = "state/"
}

data "aws_iam_policy_document" "state" {
  statement {
    sid       = "DenyPlainHttp"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "DenyTlsOlderThan12"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.state.json

  depends_on = [aws_s3_bucket_public_access_block.state]
}

# Server access logs of the state bucket. S3 delivers these only to buckets
# encrypted with S3-managed keys, which is how the log_bucket module
# encrypts.

module "access_logs" {
  source = "../log_bucket"

  bucket_name    = "${var.bucket_name}-access-logs"
  retention_days = var.access_log_retention_days
  tags           = var.tags

  policy_statements = [
    {
      sid         = "S3DeliversAccessLogsOfTheStateBucket"
      actions     = ["s3:PutObject"]
      object_keys = ["state/*"]
      principals = [
        {
          type        = "Service"
          identifiers = ["logging.s3.amazonaws.com"]
        },
      ]
      conditions = [
        {
          test     = "ArnLike"
          variable = "aws:SourceArn"
          values   = [aws_s3_bucket.state.arn]
        },
        {
          test     = "StringEquals"
          variable = "aws:SourceAccount"
          values   = [data.aws_caller_identity.current.account_id]
        },
      ]
    },
  ]
}
