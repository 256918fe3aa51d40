terraform {
  # 1.11 is the first release with write-only arguments (used for the session
  # key) and GA S3-native state locking.
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0.0, < 7.0.0"
    }
  }
}
