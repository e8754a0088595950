#ifndef OBGW_INGEST_TLS_CREDENTIALS_H_
#define OBGW_INGEST_TLS_CREDENTIALS_H_

#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/security/server_credentials.h>

namespace obgw::ingest {

// How often the gRPC port re-reads its certificate and key files: gRPC's
// FileWatcherCertificateProvider reloads them on its own (SIGHUP does not
// reach it), so a renewed certificate is served within this interval.
inline constexpr std::chrono::seconds kGrpcCertificateRefresh{60};

// TLS credentials for the gRPC port from the same PEM files as the HTTP port
// (--tls_cert_file, --tls_key_file; main.cc has already checked that they
// load). Server authentication only: publishers are authenticated by their
// token, not by a client certificate. gRPC's minimum is TLS 1.2, with its
// own AEAD-only cipher list. A replacement that fails to load (or whose key
// does not match) leaves the previous pair in use, as gRPC's watcher does.
std::shared_ptr<grpc::ServerCredentials> TlsServerCredentialsFromFiles(
    const std::string& cert_file, const std::string& key_file,
    std::chrono::seconds refresh = kGrpcCertificateRefresh);

}  // namespace obgw::ingest

#endif  // OBGW_INGEST_TLS_CREDENTIALS_H_
