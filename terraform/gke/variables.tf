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
  description = "IPv4 addresses (CIDR) allowed to reach the cluster's control plane, e.g. your own as x.x.x.x/32 (curl -4 -s ifconfig.me). The control plane's public endpoint is an IPv4 address, so kubectl reaches it from your IPv4 address, whatever else your machine has."
  type        = list(string)

  # An IPv6 address (curl without -4 on a dual-stack machine) with /32 after it is a valid IPv6
  # range, and could never match a connection to an IPv4 endpoint: refused here, before any apply.
  validation {
    condition     = length(var.admin_cidrs) > 0 && alltrue([for cidr in var.admin_cidrs : can(regex("^(\\d{1,3}\\.){3}\\d{1,3}/([1-9]|[12]\\d|3[0-2])$", cidr)) && can(cidrhost(cidr, 0))])
    error_message = "admin_cidrs: each entry must be an IPv4 address with its prefix length, 1 to 32, e.g. 203.0.113.7/32 (your address: curl -4 -s ifconfig.me). The control plane answers on IPv4 only, so an IPv6 address can never match."
  }

  validation {
    condition     = !contains(var.admin_cidrs, "0.0.0.0/0")
    error_message = "admin_cidrs: list the admins' own addresses; 0.0.0.0/0 would open the control plane to everyone."
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

variable "max_concurrent_runs" {
  description = "Runs at once on GKE, and so pods: a backfill may take all but 2 of them, which stay for schedules, sensors and runs started by hand (deploy/helm/gke_values.py writes both into the queue's limits). Autopilot adds nodes for as many pods as run; what bounds the number is Cloud SQL's connections: a run holds up to 6 at once (4 COPY streams into ny_taxi and Dagster's event writes), and database_tier db-g1-small allows 50, of which the web server, daemon and code server take about 10. Raise database_tier before raising this."
  type        = number
  default     = 6

  validation {
    condition     = var.max_concurrent_runs >= 3 && floor(var.max_concurrent_runs) == var.max_concurrent_runs
    error_message = "max_concurrent_runs: a whole number, 3 or more (a backfill takes all but 2)."
  }
}
