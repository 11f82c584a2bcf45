# GKE Autopilot: Google runs the nodes and bills the pods' requests, so a backfill's runs spread
# over as many nodes as they ask for, and an idle cluster costs only its fee and the small
# webserver, daemon and code-server pods.

resource "google_container_cluster" "dagster" {
  #checkov:skip=CKV_GCP_12:Autopilot always runs GKE Dataplane V2, which enforces NetworkPolicy; the setting cannot be changed on Autopilot
  #checkov:skip=CKV_GCP_61:Autopilot manages node networking; the subnet's flow logs (network.tf) record the pods' traffic
  #checkov:skip=CKV_GCP_66:no attestation pipeline here; the image comes from the project's own repository, which only its admins can push to
  #checkov:skip=CKV_GCP_69:Autopilot always runs the GKE metadata server (Workload Identity is always on); node_config cannot be set on Autopilot
  #checkov:skip=CKV_GCP_65:Google Groups for RBAC needs a Google Workspace domain, which a course's project has not; access is by IAM on the project
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

  # Only short-lived tokens (gcloud's auth plugin) reach the control plane, never a client
  # certificate that cannot be revoked.
  master_auth {
    client_certificate_config {
      issue_client_certificate = false
    }
  }

  resource_labels = {
    app = "taxi-assets"
  }

  release_channel {
    channel = "REGULAR"
  }

  # The first nodes come up with the cluster (Autopilot's system pods): their account may already
  # write logs and metrics and pull the image. Nothing else orders the grants before the cluster.
  depends_on = [
    google_project_iam_member.nodes_default,
    google_artifact_registry_repository_iam_member.nodes_pull_image,
  ]
}
