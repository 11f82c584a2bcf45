# What the pipeline needs in Google Cloud: a bucket for the lake, a BigQuery dataset, and a
# service account with only the roles it uses (never Owner, as the course notes warn).

terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source = "hashicorp/google"
      # 5.42 brought the arguments used here (gke/network.tf's update_on_creation_fail, the
      # last); a new major release may remove or rename them, so it is taken on purpose, not by
      # `terraform init`.
      version = ">= 5.42, < 8.0"
    }
  }
}

# Every request names the project as its quota project (X-Goog-User-Project). With a user's
# application-default credentials and no quota project of their own, the Service Usage and Resource
# Manager APIs refuse requests ("requires a quota project"); this sets one for whoever runs
# Terraform, without changing their ADC file, and the project is the one being deployed, where
# they may use its APIs. Each API must then be enabled in the project itself: apis.tf.
provider "google" {
  project               = var.project
  region                = var.region
  billing_project       = var.project
  user_project_override = true
}

resource "google_storage_bucket" "lake" {
  #checkov:skip=CKV_GCP_62:access logs would need a bucket of their own; Cloud Audit Logs (Data Access) records reads where an organisation requires it
  #checkov:skip=CKV_GCP_78:a re-run replaces its partition's files on purpose; versions would keep (and bill) every replaced file, and the TLC's files can be fetched again
  name                        = var.bucket_name
  location                    = var.location
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.destroy_data
  depends_on                  = [google_project_service.apis]

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }
}

resource "google_bigquery_dataset" "ny_taxi" {
  #checkov:skip=CKV_GCP_81:Google-managed encryption; a customer key needs a Cloud KMS key ring, which can never be deleted, and the course ends with terraform destroy
  dataset_id                 = var.dataset
  location                   = var.location
  delete_contents_on_destroy = var.destroy_data
  depends_on                 = [google_project_service.apis]
}

resource "google_service_account" "pipeline" {
  account_id   = var.service_account_id
  display_name = "taxi-assets pipeline"
  depends_on   = [google_project_service.apis]
}

# Read, write, list and delete the lake's objects, in this bucket only (Object User: no IAM or
# retention changes, unlike Object Admin).
resource "google_storage_bucket_iam_member" "lake_objects" {
  bucket = google_storage_bucket.lake.name
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${google_service_account.pipeline.email}"
}

# Read the bucket's own metadata (storage.buckets.get): the lake's start-up check asks whether the
# bucket exists (Arrow's GetBucketMetadata), and no object role grants that. Legacy Bucket Reader is
# the one predefined role with only buckets.get and objects.list, grantable on a single bucket; a
# custom role would need iam.roles.create from whoever applies and keeps its id for 37 days after
# `terraform destroy`. Bucket ACLs, which "legacy" roles also mirror, are off (uniform access).
resource "google_storage_bucket_iam_member" "lake_metadata" {
  bucket = google_storage_bucket.lake.name
  role   = "roles/storage.legacyBucketReader"
  member = "serviceAccount:${google_service_account.pipeline.email}"
}

# Write tables in this dataset only.
resource "google_bigquery_dataset_iam_member" "dataset_editor" {
  dataset_id = google_bigquery_dataset.ny_taxi.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.pipeline.email}"
}

# Run load and query jobs (a project-level role: jobs belong to the project).
resource "google_project_iam_member" "job_user" {
  project = var.project
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.pipeline.email}"
}
