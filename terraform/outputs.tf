output "lake_uri" {
  description = "Set TAXI_LAKE_URI to this (add a prefix if you like)."
  value       = "gs://${google_storage_bucket.lake.name}/lake"
}

output "bigquery_dataset" {
  value = google_bigquery_dataset.ny_taxi.dataset_id
}

output "service_account_email" {
  description = "Create its key with: gcloud iam service-accounts keys create keys/gcp-key.json --iam-account <this>"
  value       = google_service_account.pipeline.email
}

output "location" {
  description = "Set GOOGLE_LOCATION to this: the dataset's location."
  value       = google_bigquery_dataset.ny_taxi.location
}
