# Cloud SQL for PostgreSQL: Dagster's runs, event logs and schedules (database "dagster") and the
# course's trips tables (database "ny_taxi"), one user for both. Reached on a private address
# only, over TLS: the server refuses unencrypted connections, so libpq's default (sslmode=prefer)
# encrypts without any setting in the pods.

resource "google_sql_database_instance" "dagster" {
  name                = "${var.cluster_name}-postgres"
  region              = var.region
  database_version    = "POSTGRES_15"
  deletion_protection = var.deletion_protection

  depends_on = [google_service_networking_connection.private_services]

  settings {
    edition           = "ENTERPRISE"
    tier              = var.database_tier
    availability_type = "ZONAL"
    disk_size         = 10
    disk_autoresize   = true

    ip_configuration {
      ipv4_enabled    = false
      private_network = google_compute_network.dagster.id
      ssl_mode        = "ENCRYPTED_ONLY"
    }

    backup_configuration {
      enabled = true
    }
  }
}

resource "google_sql_database" "dagster" {
  name     = "dagster"
  instance = google_sql_database_instance.dagster.name
}

resource "google_sql_database" "ny_taxi" {
  name     = "ny_taxi"
  instance = google_sql_database_instance.dagster.name
}

resource "random_password" "database" {
  length  = 32
  special = false
}

resource "google_sql_user" "dagster" {
  name     = var.database_user
  instance = google_sql_database_instance.dagster.name
  password = random_password.database.result
}
