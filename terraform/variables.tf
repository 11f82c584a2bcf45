variable "project" {
  description = "GCP project id (the pipeline's GCP_PROJECT)."
  type        = string
}

variable "region" {
  description = "Default region for regional resources."
  type        = string
  default     = "europe-west1"
}

variable "location" {
  description = "Location of the bucket and the dataset (the pipeline's GOOGLE_LOCATION)."
  type        = string
  default     = "EU"
}

variable "bucket_name" {
  description = "Globally unique bucket name; the lake is gs://<bucket_name>/<prefix>."
  type        = string
}

variable "dataset" {
  description = "BigQuery dataset (the pipeline's BIGQUERY_DATASET)."
  type        = string
  default     = "ny_taxi"
}

variable "service_account_id" {
  description = "Account id of the pipeline's service account."
  type        = string
  default     = "taxi-assets"
}

variable "destroy_data" {
  description = "Let terraform destroy delete the lake's files and the warehouse's tables with the bucket and the dataset (apply it first, then destroy). Off, destroy stops at a bucket or dataset that holds data: the TLC's files can be fetched again, but years of them take hours of runs."
  type        = bool
  default     = false
}
