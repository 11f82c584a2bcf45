# Run logs (stdout and stderr of every step) for the UI: run pods come and go, so their logs go to
# GCS (Dagster's GCSComputeLogManager) instead of a pod's disk. Only logs live here, so
# `terraform destroy` may empty the bucket.

resource "google_storage_bucket" "dagster_logs" {
  name                        = var.logs_bucket_name
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  lifecycle_rule {
    condition {
      age = var.logs_retention_days
    }
    action {
      type = "Delete"
    }
  }
}
