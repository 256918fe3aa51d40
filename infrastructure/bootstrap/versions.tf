terraform {
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.62"
    }
  }

  # The bucket this root creates cannot hold this root's state before it
  # exists: the first apply keeps local state; afterwards the README shows
  # how to move it into the bucket under payments/bootstrap/.
}
