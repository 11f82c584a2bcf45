# Run logs (stdout and stderr of every step) for the UI: run pods come and go, so their logs go to
# GCS (Dagster's GCSComputeLogManager) instead of a pod's disk. Only logs live here, so
# `terraform destroy` may empty the bucket.

resource "google_storage_bucket" "dagster_logs" {
  #checkov:skip=CKV_GCP_62:access logs would need a bucket of their own; Cloud Audit Logs (Data Access) records reads where an organisation requires it
  #checkov:skip=CKV_GCP_78:run logs are written once and deleted after logs_retention_days; versions would only keep them longer
  name                        = var.logs_bucket_name
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
  depends_on                  = [google_project_service.apis]

  lifecycle_rule {
    condition {
      age = var.logs_retention_days
    }
    action {
      type = "Delete"
    }
  }
}
