# The Google APIs this module's resources are made through, and the one its pods call at run time,
# enabled before anything that needs them (each resource depends on this, directly or through
# another one). taxi_assets_tests/test_gke.py holds the list to the resource types in the .tf files.
#
# disable_on_destroy = false: ../ enables some of the same APIs in its own state, and the lake,
# the dataset and whatever else lives in the project keep using them after this module is gone.

locals {
  apis = [
    "artifactregistry.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "compute.googleapis.com",
    "container.googleapis.com",
    "iam.googleapis.com",
    # Workload Identity: the GKE metadata server trades a pod's Kubernetes token for the pipeline
    # account's access token through it.
    "iamcredentials.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
    "storage.googleapis.com",
  ]
}

resource "google_project_service" "apis" {
  for_each           = toset(local.apis)
  service            = each.value
  disable_on_destroy = false
}
