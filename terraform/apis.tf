# The Google APIs this module's resources are made through, enabled before any of them: a new
# project has neither IAM (the service account) nor Cloud Resource Manager (the project-wide grant)
# on. taxi_assets_tests/test_gke.py holds this list to the resource types in the .tf files.
#
# disable_on_destroy = false: terraform/gke/ enables some of the same APIs in its own state, and
# whatever else lives in the project may use them; disabling one on destroy would break those. An
# enabled API costs nothing by itself.

locals {
  apis = [
    "bigquery.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "iam.googleapis.com",
    "storage.googleapis.com",
  ]
}

resource "google_project_service" "apis" {
  for_each           = toset(local.apis)
  service            = each.value
  disable_on_destroy = false
}
