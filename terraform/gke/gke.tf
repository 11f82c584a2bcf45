# GKE Autopilot: Google runs the nodes and bills the pods' requests, so a backfill's runs spread
# over as many nodes as they ask for, and an idle cluster costs only its fee and the small
# webserver, daemon and code-server pods.

resource "google_container_cluster" "dagster" {
  name                = var.cluster_name
  location            = var.region
  enable_autopilot    = true
  network             = google_compute_network.dagster.id
  subnetwork          = google_compute_subnetwork.dagster.id
  deletion_protection = var.deletion_protection

  ip_allocation_policy {
    cluster_secondary_range_name  = "pods"
    services_secondary_range_name = "services"
  }

  # Nodes without public addresses; the control plane answers only the admins' addresses.
  private_cluster_config {
    enable_private_nodes    = true
    enable_private_endpoint = false
  }

  master_authorized_networks_config {
    dynamic "cidr_blocks" {
      for_each = var.admin_cidrs
      content {
        cidr_block   = cidr_blocks.value
        display_name = "admin"
      }
    }
  }

  # Pods act as a Google service account through their Kubernetes service account (iam.tf):
  # no key file exists in the cluster.
  workload_identity_config {
    workload_pool = "${var.project}.svc.id.goog"
  }

  # Nodes run as a service account that may only write logs and metrics and pull the image,
  # not as the project's default Compute Engine account (Editor on the whole project).
  cluster_autoscaling {
    auto_provisioning_defaults {
      service_account = google_service_account.nodes.email
      oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
    }
  }

  release_channel {
    channel = "REGULAR"
  }
}
