#include "ingest/tls_credentials.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

namespace obgw::ingest {

std::shared_ptr<grpc::ServerCredentials> TlsServerCredentialsFromFiles(
    const std::string& cert_file, const std::string& key_file, std::chrono::seconds refresh) {
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      key_file, cert_file, static_cast<unsigned int>(refresh.count()));
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  return grpc::experimental::TlsServerCredentials(options);
}

}  // namespace obgw::ingest
