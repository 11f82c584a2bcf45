variable "project" {
  description = "GCP project id (the pipeline's GCP_PROJECT): ../terraform.tfvars' project, which deploy/gke.sh passes."
  type        = string
}

variable "region" {
  description = "Region of the cluster, the database, the image repository and the logs bucket."
  type        = string
  default     = "europe-west1"
}

variable "pipeline_service_account" {
  description = "Email of the pipeline's service account made by ../ (its service_account_email output, which deploy/gke.sh passes)."
  type        = string
}

variable "admin_cidrs" {
  description = "Addresses (CIDR) allowed to reach the cluster's control plane, e.g. your own IP as x.x.x.x/32."
  type        = list(string)

  validation {
    condition     = length(var.admin_cidrs) > 0 && !contains(var.admin_cidrs, "0.0.0.0/0")
    error_message = "List the admins' own addresses; 0.0.0.0/0 would open the control plane to everyone."
  }
}

variable "cluster_name" {
  description = "Name of the cluster, also the prefix of the network, database and node service account."
  type        = string
  default     = "taxi-assets"
}

variable "kubernetes_namespace" {
  description = "Namespace the Helm release goes to (helm upgrade --install -n <this>)."
  type        = string
  default     = "dagster"
}

variable "kubernetes_service_account" {
  description = "Kubernetes service account of every Dagster pod: global.serviceAccountName in deploy/helm/values.yaml."
  type        = string
  default     = "taxi-assets"
}

variable "image_repository" {
  description = "Artifact Registry repository for the project's image."
  type        = string
  default     = "taxi-assets"
}

variable "database_tier" {
  description = "Cloud SQL machine type; db-f1-micro is the smallest (shared core, 0.6 GB)."
  type        = string
  default     = "db-g1-small"
}

variable "database_user" {
  description = "PostgreSQL user for Dagster's storage and the trips tables."
  type        = string
  default     = "taxi"
}

variable "logs_bucket_name" {
  description = "Globally unique name of the bucket holding run logs."
  type        = string
}

variable "logs_retention_days" {
  description = "Days a run's logs are kept."
  type        = number
  default     = 30
}

variable "deletion_protection" {
  description = "Refuse to destroy the cluster and the database. Off, as the course ends with terraform destroy."
  type        = bool
  default     = false
}
