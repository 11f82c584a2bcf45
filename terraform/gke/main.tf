# Dagster itself on Google Cloud: a private GKE Autopilot cluster where every run is a Kubernetes
# Job, Cloud SQL for PostgreSQL on a private address, an Artifact Registry repository for the
# project's image and a bucket for run logs. It builds on ../ (the lake bucket, the dataset and the
# pipeline's service account), applied first; `terraform destroy` here leaves those in place.

terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source = "hashicorp/google"
      # 5.42: the service-networking connection's update_on_creation_fail (network.tf), the newest
      # argument used here. A new major release may remove or rename arguments used here, so it is
      # taken on purpose, not by `terraform init`.
      version = ">= 5.42, < 8.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.5, < 4.0"
    }
  }
}

# The deployed project is every request's quota project, as in ../main.tf (which says why).
provider "google" {
  project               = var.project
  region                = var.region
  billing_project       = var.project
  user_project_override = true
}
