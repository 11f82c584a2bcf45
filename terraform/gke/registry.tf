# The project's one image (Dockerfile), pushed here and pulled by the nodes.

resource "google_artifact_registry_repository" "images" {
  #checkov:skip=CKV_GCP_84:Google-managed encryption; a customer key needs a Cloud KMS key ring, which can never be deleted, and the course ends with terraform destroy
  location      = var.region
  repository_id = var.image_repository
  format        = "DOCKER"
  description   = "taxi-assets: the code server, web server, daemon and run image"
  depends_on    = [google_project_service.apis]
}
