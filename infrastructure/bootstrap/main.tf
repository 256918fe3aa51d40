# Applied once per AWS account, before any environment: the bucket and key
# that hold every environment's Terraform state.

provider "aws" {
  region = "us-east-1"

  default_tags {
    tags = {
      Service   = "payments"
      Component = "terraform-state"
      ManagedBy = "terraform"
    }
  }
}

module "state" {
  source = "../modules/state"

  bucket_name   = "themarkup-payments-terraform-state"
  kms_key_alias = "payments-terraform-state"
}
