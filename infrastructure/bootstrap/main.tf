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

# CircleCI's OIDC identity provider: one per account, shared by every
# environment's pipeline role, which only looks it up. Owned here so that no
# environment's apply or destroy creates or removes it for the others.
resource "aws_iam_openid_connect_provider" "circleci" {
  url            = "https://oidc.circleci.com/org/${var.circleci_organization_id}"
  client_id_list = [var.circleci_organization_id]
}
