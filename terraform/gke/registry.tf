# The project's one image (Dockerfile), pushed here and pulled by the nodes.

resource "google_artifact_registry_repository" "images" {
  location      = var.region
  repository_id = var.image_repository
  format        = "DOCKER"
  description   = "taxi-assets: the code server, web server, daemon and run image"
}
