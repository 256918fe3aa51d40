# A bucket that AWS services deliver logs into (load balancer access logs,
# S3 server access logs): versioned, encrypted with S3-managed keys (SSE-S3,
# the only encryption those deliveries support), all public access blocked,
# objects owned by the bucket owner, logs expiring after a set number of
# days, and a bucket policy that refuses plain HTTP. Callers add the
# statements that let their log service write.

locals {
  # The Name tag: the bucket name, or the prefix without its trailing '-'.
  name_tag = var.bucket_name != null ? var.bucket_name : trimsuffix(var.bucket_prefix, "-")
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_145:Load balancer access log and S3 server access log delivery support only SSE-S3 on the target bucket, not KMS.
  #checkov:skip=CKV_AWS_18:This bucket is itself a log destination; logging its accesses would need yet another bucket, or loop into itself.
  #checkov:skip=CKV_AWS_144:Logs are diagnostic and audit copies kept for a limited time; a cross-region replica is not worth its cost.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events for new log objects; they are read on demand.
  bucket        = var.bucket_name
  bucket_prefix = var.bucket_prefix
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { Name = local.name_tag })
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

# The callers' statements first, then the TLS-only deny, which every log
# bucket carries whatever the caller adds.
data "aws_iam_policy_document" "this" {
  dynamic "statement" {
    for_each = var.policy_statements

    content {
      sid     = statement.value.sid
      effect  = statement.value.effect
      actions = statement.value.actions
      resources = concat(
        statement.value.bucket ? [aws_s3_bucket.this.arn] : [],
        [for key in statement.value.object_keys : "${aws_s3_bucket.this.arn}/${key}"],
      )

      dynamic "principals" {
        for_each = statement.value.principals

        content {
          type        = principals.value.type
          identifiers = principals.value.identifiers
        }
      }

      dynamic "condition" {
        for_each = statement.value.conditions

        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }

  statement {
    sid       = "DenyPlainHttp"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]

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
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.this.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}
