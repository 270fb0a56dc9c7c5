// `kite-server certificate rotate [--data-dir DIR] [--service NAME]...`: k3s's command for
// renewing the cluster's leaf certificates on demand. Run it with the server stopped: it copies
// <data-dir>/server/tls to tls-<unix time> (a backup to return to) and removes the named services'
// leaf certificates (all of them without --service), so the next start issues new ones from the
// same CAs. The CAs and the service-account keys are kept; clients holding the CA keep working,
// clients holding an old leaf (a copied admin kubeconfig) must take the new one.
#pragma once

namespace kite::server {

// argv[0] is "certificate". Returns the process exit code.
int CertificateCommand(int argc, char** argv);

}  // namespace kite::server
