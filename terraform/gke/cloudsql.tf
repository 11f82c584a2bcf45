# Cloud SQL for PostgreSQL: Dagster's runs, event logs and schedules (database "dagster") and the
# course's trips tables (database "ny_taxi"), one user for both. Reached on a private address
# only, over TLS: the server refuses unencrypted connections, so libpq's default (sslmode=prefer)
# encrypts without any setting in the pods.

# Cloud SQL keeps a deleted instance's name for up to a week, so a fixed name would refuse `up`
# after `down`: each instance gets a suffix of its own, made again after a destroy.
resource "random_id" "database_instance" {
  byte_length = 4
}

resource "google_sql_database_instance" "dagster" {
  #checkov:skip=CKV_GCP_6:ENCRYPTED_ONLY already refuses unencrypted connections; client certificates would have to reach every pod, on a private address only
  #checkov:skip=CKV_GCP_79:PostgreSQL 15, as docker-compose.yml and the tests run it; raise them together
  #checkov:skip=CKV_GCP_108:log_hostname makes a reverse DNS lookup per connection, and private addresses have no names; log_connections records the address
  #checkov:skip=CKV_GCP_110:pgAudit logs every statement of Dagster's event log and the trips loads: the log bill of a course project for no reader
  #checkov:skip=CKV2_GCP_13:log_duration logs every statement's duration (thousands per run); the slow ones are what log_min_duration_statement would be for
  name                = "${var.cluster_name}-postgres-${random_id.database_instance.hex}"
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

    # Who connected and when, waits on locks, checkpoints, schema changes and failed statements:
    # what an operator reads after an incident, a few lines per run.
    database_flags {
      name  = "log_connections"
      value = "on"
    }
    database_flags {
      name  = "log_disconnections"
      value = "on"
    }
    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }
    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }
    database_flags {
      name  = "log_statement"
      value = "ddl"
    }
    database_flags {
      name  = "log_min_error_statement"
      value = "error"
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

# PostgreSQL will not drop a role that still owns objects (Dagster's tables, the trips tables):
# deleting the user would stop `terraform destroy` ("role cannot be dropped because some objects
# depend on it"). The instance is deleted right after, with the role and everything it owns.
resource "google_sql_user" "dagster" {
  name            = var.database_user
  instance        = google_sql_database_instance.dagster.name
  password        = random_password.database.result
  deletion_policy = "ABANDON"
}
