# A network of the deployment's own. Nodes have no public address: they reach the TLC's mirror
# through Cloud NAT and Google's APIs (GCS, BigQuery, Artifact Registry) by Private Google Access.

resource "google_compute_network" "dagster" {
  #checkov:skip=CKV2_GCP_18:a VPC's implied rules deny all ingress and GKE adds the control plane's own; a rule of ours could only open something
  name                    = "${var.cluster_name}-net"
  auto_create_subnetworks = false
  depends_on              = [google_project_service.apis]
}

resource "google_compute_subnetwork" "dagster" {
  name                     = "${var.cluster_name}-nodes"
  region                   = var.region
  network                  = google_compute_network.dagster.id
  ip_cidr_range            = "10.10.0.0/20"
  private_ip_google_access = true

  # A sample of the nodes' and pods' connections, for an incident: cheap at this rate.
  log_config {
    aggregation_interval = "INTERVAL_10_MIN"
    flow_sampling        = 0.1
    metadata             = "INCLUDE_ALL_METADATA"
  }

  secondary_ip_range {
    range_name    = "pods"
    ip_cidr_range = "10.20.0.0/16"
  }

  secondary_ip_range {
    range_name    = "services"
    ip_cidr_range = "10.30.0.0/20"
  }
}

resource "google_compute_router" "dagster" {
  name    = "${var.cluster_name}-router"
  region  = var.region
  network = google_compute_network.dagster.id
}

# Outbound only: runs download the monthly files; nothing can connect in.
resource "google_compute_router_nat" "dagster" {
  name                               = "${var.cluster_name}-nat"
  router                             = google_compute_router.dagster.name
  region                             = var.region
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"
}

# Private services access: Cloud SQL gets an address inside this network and no public one.
resource "google_compute_global_address" "private_services" {
  name          = "${var.cluster_name}-private-services"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = 20
  network       = google_compute_network.dagster.id
}

# Cloud SQL keeps its side of the connection for days after the instance is deleted (so that it can
# be restored), and the API refuses to delete the connection meanwhile: `terraform destroy` would
# stop here. ABANDON forgets it instead. The VPC peering it made may still be left on the network;
# if the network's deletion is refused for it, deploy/gke.sh down removes the peering and destroys
# again. (Provider 8.1's deletion_policy REMOVE_PEERING does that itself; this module stays below 8
# until its arguments are checked against 8.0's removals.) Service Networking still knows the
# abandoned connection when `up` makes the network again: creating it fails, and
# update_on_creation_fail updates the existing one to this network's range instead.
resource "google_service_networking_connection" "private_services" {
  network                 = google_compute_network.dagster.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_services.name]
  deletion_policy         = "ABANDON"
  update_on_creation_fail = true
}
