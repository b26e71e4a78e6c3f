// A minimal CMP server built on Bouncy Castle's org.bouncycastle.cert.cmp API,
// for interoperability tests of CMP clients: it answers ir with ip (issuing a
// certificate from its own CA for the requested subject and key), certConf
// with pkiConf, genm caCerts with genp, and rr with rp, over HTTP on
// 127.0.0.1.
//
// ir, certConf and genm must be MAC-protected with the shared secret
// (PasswordBasedMac or PBMAC1) and carry the reference as senderKID; rr must
// be signed with the certificate it revokes. Answers to MAC-protected
// requests are MAC-protected with the request's algorithm (MODE mac) or
// signed by the CA key (MODE signature); answers to signed requests are
// signed.
//
// Usage: BcCmpServer REFERENCE SECRET_FILE MODE CA_CERT_PEM_OUT
// It writes its CA certificate to CA_CERT_PEM_OUT, prints
// "LISTEN <url>" on standard output once it accepts requests, and one line
// "EVENT <op> <outcome> [detail]" per request on standard error. It exits
// when standard input closes.
import java.io.*;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.file.*;
import java.security.*;
import java.security.spec.ECGenParameterSpec;
import java.util.*;
import java.util.concurrent.ConcurrentHashMap;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import org.bouncycastle.asn1.*;
import org.bouncycastle.asn1.cmp.*;
import org.bouncycastle.asn1.crmf.*;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.*;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.cmp.*;
import org.bouncycastle.cert.crmf.*;
import org.bouncycastle.cert.crmf.jcajce.JcePKMACValuesCalculator;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.*;
import org.bouncycastle.operator.jcajce.*;
import org.bouncycastle.pkcs.jcajce.JcePBMac1CalculatorBuilder;
import org.bouncycastle.pkcs.jcajce.JcePBMac1CalculatorProviderBuilder;

public class BcCmpServer {
    static final SecureRandom RANDOM = new SecureRandom();
    static final ASN1ObjectIdentifier ID_IT_CA_CERTS = new ASN1ObjectIdentifier("1.3.6.1.5.5.7.4.17");

    final byte[] reference;
    final char[] secret;
    final boolean signResponses;
    final KeyPair caKey;
    final X509CertificateHolder caCert;
    /** Issued certificates awaiting certConf, by transactionID (hex). */
    final Map<String, X509CertificateHolder> pending = new ConcurrentHashMap<>();

    BcCmpServer(byte[] reference, char[] secret, boolean signResponses) throws Exception {
        this.reference = reference;
        this.secret = secret;
        this.signResponses = signResponses;
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        caKey = g.generateKeyPair();
        X500Name name = new X500Name("CN=Bouncy Castle Test CMP CA");
        Date now = new Date();
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, new BigInteger(64, RANDOM).add(BigInteger.ONE),
                new Date(now.getTime() - 60000L), new Date(now.getTime() + 86400000L), name, caKey.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature))
                .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(caKey.getPublic()));
        caCert = b.build(signer());
    }

    ContentSigner signer() throws OperatorCreationException {
        return new JcaContentSignerBuilder("SHA256withECDSA").build(caKey.getPrivate());
    }

    static void event(String s) {
        System.err.println("EVENT " + s);
        System.err.flush();
    }

    static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            s.append(String.format("%02x", x));
        }
        return s.toString();
    }

    /** Refusal is a request the server answers with an error message. */
    static class Refusal extends Exception {
        final int failInfo;

        Refusal(int failInfo, String text) {
            super(text);
            this.failInfo = failInfo;
        }
    }

    /** isMAC reports whether alg is a password-based MAC. */
    static boolean isMAC(AlgorithmIdentifier alg) {
        return alg != null && (alg.getAlgorithm().equals(CMPObjectIdentifiers.passwordBasedMac)
                || alg.getAlgorithm().equals(PKCSObjectIdentifiers.id_PBMAC1));
    }

    /** verifySigned checks a signed request: extraCerts[0], issued by this CA, signed it; it returns that certificate. */
    X509CertificateHolder verifySigned(ProtectedPKIMessage req) throws Exception {
        X509CertificateHolder[] certs = req.getCertificates();
        if (certs.length == 0) {
            throw new Refusal(PKIFailureInfo.badMessageCheck, "signed request without extraCerts");
        }
        X509CertificateHolder signer = certs[0];
        if (!signer.getIssuer().equals(caCert.getSubject())
                || !signer.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider("BC").build(caCert))) {
            throw new Refusal(PKIFailureInfo.signerNotTrusted, "extraCerts[0] is not issued by this CA");
        }
        if (!req.verify(new JcaContentVerifierProviderBuilder().setProvider("BC").build(signer))) {
            throw new Refusal(PKIFailureInfo.badMessageCheck, "signature does not verify");
        }
        return signer;
    }

    /** verify checks the request's MAC protection with the shared secret. */
    void verify(ProtectedPKIMessage req) throws Exception {
        PKIHeader h = req.getHeader();
        if (h.getProtectionAlg() == null) {
            throw new Refusal(PKIFailureInfo.badMessageCheck, "request is not protected");
        }
        if (h.getSenderKID() == null || !Arrays.equals(h.getSenderKID().getOctets(), reference)) {
            throw new Refusal(PKIFailureInfo.badMessageCheck, "unknown senderKID");
        }
        ASN1ObjectIdentifier alg = h.getProtectionAlg().getAlgorithm();
        PBEMacCalculatorProvider p;
        if (alg.equals(CMPObjectIdentifiers.passwordBasedMac)) {
            p = new PKMACBuilder(new JcePKMACValuesCalculator());
        } else if (alg.equals(PKCSObjectIdentifiers.id_PBMAC1)) {
            p = new JcePBMac1CalculatorProviderBuilder().setProvider("BC").build();
        } else {
            throw new Refusal(PKIFailureInfo.badAlg, "protection " + alg + " is not a MAC");
        }
        if (!req.verify(p, secret)) {
            throw new Refusal(PKIFailureInfo.badMessageCheck, "MAC does not verify");
        }
    }

    /** answer builds the protected answer to req with body. */
    byte[] answer(ProtectedPKIMessage req, PKIBody body) throws Exception {
        PKIHeader h = req.getHeader();
        ProtectedPKIMessageBuilder b = new ProtectedPKIMessageBuilder(PKIHeader.CMP_2000, new GeneralName(caCert.getSubject()), h.getSender())
                .setTransactionID(h.getTransactionID() == null ? null : h.getTransactionID().getOctets())
                .setSenderNonce(random(16))
                .setMessageTime(new Date())
                .setBody(body);
        if (h.getSenderNonce() != null) {
            b.setRecipNonce(h.getSenderNonce().getOctets());
        }
        ProtectedPKIMessage out;
        AlgorithmIdentifier alg = h.getProtectionAlg();
        if (signResponses || !isMAC(alg)) {
            b.addCMPCertificate(caCert);
            b.setSenderKID(SubjectKeyIdentifier.fromExtensions(caCert.getExtensions()).getKeyIdentifier());
            out = b.build(signer());
        } else if (alg.getAlgorithm().equals(PKCSObjectIdentifiers.id_PBMAC1)) {
            b.setSenderKID(reference);
            out = b.build(new JcePBMac1CalculatorBuilder("HmacSHA256", 256).setProvider("BC").setIterationCount(10000).build(secret));
        } else {
            // Keep the request's OWF, MAC and iteration count with a fresh salt.
            PBMParameter rp = PBMParameter.getInstance(alg.getParameters());
            PKMACBuilder mb = new PKMACBuilder(new JcePKMACValuesCalculator());
            mb.setParameters(new PBMParameter(random(16), rp.getOwf(), rp.getIterationCount().intValueExact(), rp.getMac()));
            b.setSenderKID(reference);
            out = b.build(mb.build(secret));
        }
        return out.toASN1Structure().getEncoded(ASN1Encoding.DER);
    }

    static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    byte[] handle(byte[] der) throws Exception {
        ProtectedPKIMessage req = new ProtectedPKIMessage(new GeneralPKIMessage(PKIMessage.getInstance(ASN1Primitive.fromByteArray(der))));
        int type = req.getBody().getType();
        String op = "type" + type;
        try {
            if (type != PKIBody.TYPE_REVOCATION_REQ) {
                verify(req);
            }
            String tid = req.getHeader().getTransactionID() == null ? "" : hex(req.getHeader().getTransactionID().getOctets());
            switch (type) {
                case PKIBody.TYPE_INIT_REQ: {
                    op = "ir";
                    CertReqMsg[] msgs = CertReqMessages.getInstance(req.getBody().getContent()).toCertReqMsgArray();
                    if (msgs.length != 1) {
                        throw new Refusal(PKIFailureInfo.badRequest, msgs.length + " requests, want 1");
                    }
                    CertificateRequestMessage crm = new CertificateRequestMessage(msgs[0]);
                    CertTemplate t = crm.getCertTemplate();
                    if (t.getPublicKey() == null || t.getSubject() == null) {
                        throw new Refusal(PKIFailureInfo.badCertTemplate, "template lacks subject or public key");
                    }
                    if (!crm.hasProofOfPossession() || !crm.isValidSigningKeyPOP(
                            new JcaContentVerifierProviderBuilder().setProvider("BC").build(t.getPublicKey()))) {
                        throw new Refusal(PKIFailureInfo.badPOP, "proof of possession does not verify");
                    }
                    Date now = new Date();
                    X509v3CertificateBuilder cb = new X509v3CertificateBuilder(caCert.getSubject(), new BigInteger(64, RANDOM).add(BigInteger.ONE),
                            new Date(now.getTime() - 60000L), new Date(now.getTime() + 3600000L), t.getSubject(), t.getPublicKey())
                            .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                            .addExtension(Extension.authorityKeyIdentifier, false, new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(caCert));
                    X509CertificateHolder cert = cb.build(signer());
                    pending.put(tid, cert);
                    CertResponse r = new CertResponse(msgs[0].getCertReq().getCertReqId(), new PKIStatusInfo(PKIStatus.granted),
                            new CertifiedKeyPair(new CertOrEncCert(new CMPCertificate(cert.toASN1Structure()))), null);
                    CertRepMessage rep = new CertRepMessage(new CMPCertificate[] {new CMPCertificate(caCert.toASN1Structure())}, new CertResponse[] {r});
                    event("ir accepted serial=" + cert.getSerialNumber());
                    return answer(req, new PKIBody(PKIBody.TYPE_INIT_REP, rep));
                }
                case PKIBody.TYPE_CERT_CONFIRM: {
                    op = "certConf";
                    X509CertificateHolder cert = pending.remove(tid);
                    if (cert == null) {
                        throw new Refusal(PKIFailureInfo.badRequest, "certConf for no pending certificate");
                    }
                    CertificateConfirmationContent cc = new CertificateConfirmationContent(CertConfirmContent.getInstance(req.getBody().getContent()));
                    CertificateStatus[] st = cc.getStatusMessages();
                    if (st.length != 1) {
                        throw new Refusal(PKIFailureInfo.badRequest, st.length + " CertStatus, want 1");
                    }
                    if (!st[0].isVerified(cert, new JcaDigestCalculatorProviderBuilder().build())) {
                        throw new Refusal(PKIFailureInfo.badCertId, "certHash is not the hash of the issued certificate");
                    }
                    int s = st[0].getStatusInfo() == null ? PKIStatus.GRANTED : st[0].getStatusInfo().getStatus().intValue();
                    event("certConf " + (s == PKIStatus.GRANTED ? "confirmed" : "rejected") + " serial=" + cert.getSerialNumber());
                    return answer(req, new PKIBody(PKIBody.TYPE_CONFIRM, DERNull.INSTANCE));
                }
                case PKIBody.TYPE_GEN_MSG: {
                    op = "genm";
                    InfoTypeAndValue[] items = GenMsgContent.getInstance(req.getBody().getContent()).toInfoTypeAndValueArray();
                    List<InfoTypeAndValue> out = new ArrayList<>();
                    for (InfoTypeAndValue it : items) {
                        if (it.getInfoType().equals(ID_IT_CA_CERTS)) {
                            out.add(new InfoTypeAndValue(ID_IT_CA_CERTS, new DERSequence(new CMPCertificate(caCert.toASN1Structure()))));
                        } else {
                            out.add(new InfoTypeAndValue(it.getInfoType()));
                        }
                    }
                    event("genm accepted items=" + items.length);
                    return answer(req, new PKIBody(PKIBody.TYPE_GEN_REP, new GenRepContent(out.toArray(new InfoTypeAndValue[0]))));
                }
                case PKIBody.TYPE_REVOCATION_REQ: {
                    op = "rr";
                    X509CertificateHolder signer = verifySigned(req);
                    RevDetails[] rds = RevReqContent.getInstance(req.getBody().getContent()).toRevDetailsArray();
                    if (rds.length != 1) {
                        throw new Refusal(PKIFailureInfo.badRequest, rds.length + " RevDetails, want 1");
                    }
                    CertTemplate t = rds[0].getCertDetails();
                    if (t.getSerialNumber() == null || !t.getSerialNumber().getValue().equals(signer.getSerialNumber())
                            || t.getIssuer() == null || !t.getIssuer().equals(caCert.getSubject())) {
                        throw new Refusal(PKIFailureInfo.badCertId, "rr names a certificate other than its signer's");
                    }
                    event("rr accepted serial=" + signer.getSerialNumber());
                    RevRepContent rp = new RevRepContentBuilder().add(new PKIStatusInfo(PKIStatus.granted)).build();
                    return answer(req, new PKIBody(PKIBody.TYPE_REVOCATION_REP, rp));
                }
                default:
                    throw new Refusal(PKIFailureInfo.badRequest, "body type " + type + " is not offered");
            }
        } catch (Refusal r) {
            event(op + " refused " + r.getMessage().replace(' ', '_'));
            PKIStatusInfo si = new PKIStatusInfo(PKIStatus.rejection, new PKIFreeText(r.getMessage()), new PKIFailureInfo(r.failInfo));
            return answer(req, new PKIBody(PKIBody.TYPE_ERROR, new ErrorMsgContent(si)));
        }
    }

    public static void main(String[] args) throws Exception {
        Security.addProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider());
        char[] secret = new String(Files.readAllBytes(Paths.get(args[1])), "UTF-8").toCharArray();
        BcCmpServer s = new BcCmpServer(args[0].getBytes("UTF-8"), secret, args[2].equals("signature"));
        String pem = "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes("US-ASCII")).encodeToString(s.caCert.getEncoded())
                + "\n-----END CERTIFICATE-----\n";
        Files.write(Paths.get(args[3]), pem.getBytes("US-ASCII"));
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/", (HttpExchange x) -> {
            byte[] resp;
            int code = 200;
            try {
                if (!x.getRequestMethod().equals("POST")) {
                    code = 405;
                    resp = new byte[0];
                } else {
                    resp = s.handle(x.getRequestBody().readAllBytes());
                }
            } catch (Exception e) {
                event("invalid " + String.valueOf(e.getMessage()).replace(' ', '_'));
                code = 400;
                resp = new byte[0];
            }
            x.getResponseHeaders().set("Content-Type", "application/pkixcmp");
            x.sendResponseHeaders(code, resp.length == 0 ? -1 : resp.length);
            try (OutputStream o = x.getResponseBody()) {
                o.write(resp);
            }
        });
        http.start();
        System.out.println("LISTEN http://127.0.0.1:" + http.getAddress().getPort() + "/cmp");
        System.out.flush();
        while (System.in.read() >= 0) {
            // runs until standard input closes
        }
        http.stop(0);
        System.exit(0);
    }
}
