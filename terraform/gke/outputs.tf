output "get_credentials" {
  description = "Run this for kubectl and helm to reach the cluster."
  value       = "gcloud container clusters get-credentials ${google_container_cluster.dagster.name} --region ${var.region} --project ${var.project}"
}

output "cluster_name" {
  value = google_container_cluster.dagster.name
}

output "region" {
  value = var.region
}

output "image" {
  description = "Tag and push the image here: docker push <this>:<tag>."
  value       = "${var.region}-docker.pkg.dev/${var.project}/${google_artifact_registry_repository.images.repository_id}/taxi-assets"
}

output "database_host" {
  description = "Cloud SQL's private address: POSTGRES_HOST and postgresql.postgresqlHost."
  value       = google_sql_database_instance.dagster.private_ip_address
}

output "database_password" {
  description = "Password of database_user: both Kubernetes secrets (see docs/google-cloud.md). terraform output -raw database_password"
  value       = random_password.database.result
  sensitive   = true
}

output "logs_bucket" {
  description = "Where run logs go: computeLogManager's bucket."
  value       = google_storage_bucket.dagster_logs.name
}

output "project" {
  value = var.project
}

output "pipeline_service_account" {
  description = "The Google service account the pods act as (Workload Identity)."
  value       = data.google_service_account.pipeline.email
}

output "kubernetes_namespace" {
  value = var.kubernetes_namespace
}

output "kubernetes_service_account" {
  value = var.kubernetes_service_account
}

output "database_user" {
  value = var.database_user
}

output "network" {
  description = "The deployment's VPC network: deploy/gke.sh down removes its service peering if destroy leaves it."
  value       = google_compute_network.dagster.name
}

output "max_concurrent_runs" {
  description = "The queue's limit on runs at once: deploy/helm/gke_values.py writes it, and the backfill limit that follows from it, into values.gke.yaml."
  value       = var.max_concurrent_runs
}
