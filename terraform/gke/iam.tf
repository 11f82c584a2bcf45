# Least privilege, one grant per need (docs/google-cloud.md's table lists them). The pipeline's service
# account and its grants on the lake and the dataset come from ../ (main.tf).

data "google_service_account" "pipeline" {
  account_id = var.pipeline_service_account
  depends_on = [google_project_service.apis]
}

# Workload Identity: the pods' Kubernetes service account may act as the pipeline's service
# account. This binding, not a key file, is how runs reach GCS and BigQuery. The pool is read from
# the cluster, not written as PROJECT.svc.id.goog: the pool exists only once a cluster has asked for
# it, and IAM refuses a member of a pool that does not exist ("Identity Pool does not exist"), so
# the binding must wait for the cluster.
resource "google_service_account_iam_member" "pods_act_as_pipeline" {
  service_account_id = data.google_service_account.pipeline.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${google_container_cluster.dagster.workload_identity_config[0].workload_pool}[${var.kubernetes_namespace}/${var.kubernetes_service_account}]"
}

# Runs write their logs and the web server reads them, in the logs bucket only.
resource "google_storage_bucket_iam_member" "pipeline_writes_logs" {
  bucket = google_storage_bucket.dagster_logs.name
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${data.google_service_account.pipeline.email}"
}

# Dagster's GCSComputeLogManager checks that its bucket exists when every process starts
# (storage.buckets.get); see ../main.tf for why this role.
resource "google_storage_bucket_iam_member" "pipeline_reads_logs_bucket" {
  bucket = google_storage_bucket.dagster_logs.name
  role   = "roles/storage.legacyBucketReader"
  member = "serviceAccount:${data.google_service_account.pipeline.email}"
}

resource "google_service_account" "nodes" {
  account_id   = "${var.cluster_name}-nodes"
  display_name = "taxi-assets GKE nodes"
  depends_on   = [google_project_service.apis]
}

# What a node needs to report its own logs and metrics (Google's minimal node role).
resource "google_project_iam_member" "nodes_default" {
  project = var.project
  role    = "roles/container.defaultNodeServiceAccount"
  member  = "serviceAccount:${google_service_account.nodes.email}"
}

# Nodes pull the project's image, from this repository only.
resource "google_artifact_registry_repository_iam_member" "nodes_pull_image" {
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${google_service_account.nodes.email}"
}
