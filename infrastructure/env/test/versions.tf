terraform {
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.62"
    }
  }

  # State lives in the bucket made by infrastructure/bootstrap, one key per
  # environment, encrypted with the state key, locked with an S3 lock file.
  backend "s3" {
    bucket       = "themarkup-payments-terraform-state"
    key          = "payments/test/terraform.tfstate"
    region       = "us-east-1"
    encrypt      = true
    kms_key_id   = "alias/payments-terraform-state"
    use_lockfile = true
  }
}
