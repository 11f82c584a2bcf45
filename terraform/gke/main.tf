# Dagster itself on Google Cloud: a private GKE Autopilot cluster where every run is a Kubernetes
# Job, Cloud SQL for PostgreSQL on a private address, an Artifact Registry repository for the
# project's image and a bucket for run logs. It builds on ../ (the lake bucket, the dataset and the
# pipeline's service account), applied first; `terraform destroy` here leaves those in place.

terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.5"
    }
  }
}

provider "google" {
  project = var.project
  region  = var.region
}
