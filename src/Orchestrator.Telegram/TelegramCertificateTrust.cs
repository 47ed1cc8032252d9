using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Orchestrator.Telegram;

/// <summary>
/// Test-only trust of extra root certificates (<see cref="TelegramClientOptions.TrustedCertificateFile"/>): a server
/// certificate the system rejects is accepted only when its chain ends in one of them (a self-signed certificate may be
/// one of them itself) and the host name matches. Everything the system accepts stays accepted.
/// </summary>
public sealed class TelegramCertificateTrust(X509Certificate2Collection trusted)
{
    /// <summary>Loads the certificates of a PEM (one or more) or DER file; returns a problem sentence, or null when loaded.</summary>
    public static string? TryLoad(string path, out X509Certificate2Collection certificates)
    {
        certificates = [];
        if (!File.Exists(path))
        {
            return $"names a file that does not exist (\"{path}\")";
        }

        try
        {
            var text = File.ReadAllText(path);
            if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            {
                certificates.ImportFromPem(text);
            }
            else
            {
                certificates.Add(X509CertificateLoader.LoadCertificateFromFile(path));
            }
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            return $"must be a readable PEM or DER certificate file (\"{path}\": {ex.Message})";
        }

        return certificates.Count == 0 ? $"contains no certificate (\"{path}\")" : null;
    }

    /// <summary>A <see cref="RemoteCertificateValidationCallback"/>.</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        // A wrong host name or no certificate at all is never excused; only the chain's trust is.
        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || certificate is null)
        {
            return false;
        }

        using var leaf = new X509Certificate2(certificate);
        foreach (var root in trusted)
        {
            if (root.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span))
            {
                return true;
            }
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(trusted);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        var valid = custom.Build(leaf);
        foreach (var element in custom.ChainElements)
        {
            element.Certificate.Dispose();
        }

        return valid;
    }
}
