package org.diskhost.backend.blob;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.Optional;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * The TLS trust of a blob disk: the JDK's default trust store, certificates from a PEM file, or both. Host names are
 * always verified (the JDK client does it); there is no way to turn verification off.
 */
final class Trust {
    private Trust() {
    }

    /**
     * The context for https requests.
     *
     * @param caFile PEM certificates (CA or the server's own, self-signed) to trust
     * @param system whether the JDK's default trust store is trusted too
     * @throws IOException naming the file when it holds no certificate or cannot be read
     */
    static SSLContext context(Optional<Path> caFile, boolean system) throws IOException {
        try {
            if (caFile.isEmpty()) {
                return SSLContext.getDefault();
            }
            Collection<? extends Certificate> certificates;
            try (InputStream in = Files.newInputStream(caFile.get())) {
                certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
            }
            if (certificates.isEmpty()) {
                throw new IOException(caFile.get() + " holds no PEM certificate");
            }
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int n = 0;
            for (Certificate c : certificates) {
                store.setCertificateEntry("ca-file-" + n++, c);
            }
            if (system) {
                TrustManagerFactory defaults = TrustManagerFactory.getInstance(
                        TrustManagerFactory.getDefaultAlgorithm());
                defaults.init((KeyStore) null);
                for (var manager : defaults.getTrustManagers()) {
                    if (manager instanceof X509TrustManager x509) {
                        for (X509Certificate c : x509.getAcceptedIssuers()) {
                            store.setCertificateEntry("system-" + n++, c);
                        }
                    }
                }
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot use the certificates of " + caFile.map(Path::toString).orElse("the JDK")
                    + ": " + e.getMessage(), e);
        }
    }
}
