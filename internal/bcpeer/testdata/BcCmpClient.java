// A CMP client built on Bouncy Castle's org.bouncycastle.cert.cmp API, for
// interoperability tests: it runs ir (PBM with HMAC-SHA1, PBM with
// HMAC-SHA256, PBMAC1), certConf, p10cr, genm, cr, kur and rr against the CMP
// endpoint given and checks every answer as a strict client: protection
// verified, header (pvno, transactionID, recipNonce, senderNonce), status
// accepted, the certificate's public key, and its chain to the trust anchor.
//
// Usage: BcCmpClient URL REFERENCE SECRET_FILE TRUST_ANCHOR_PEM OUT_DIR
// It prints one line per case: "CASE <name> PASS [key=value ...]" or
// "CASE <name> FAIL <reason>", and writes the DER of the PBMAC1 ir it sent to
// OUT_DIR/ir-pbmac1.der.
import java.io.*;
import java.math.BigInteger;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.file.*;
import java.security.*;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.*;

import org.bouncycastle.asn1.*;
import org.bouncycastle.asn1.cmp.*;
import org.bouncycastle.asn1.crmf.*;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.oiw.OIWObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.CertificationRequest;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.*;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.cmp.*;
import org.bouncycastle.cert.crmf.*;
import org.bouncycastle.cert.crmf.jcajce.JcePKMACValuesCalculator;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.operator.*;
import org.bouncycastle.operator.jcajce.*;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.bouncycastle.pkcs.jcajce.JcePBMac1CalculatorBuilder;
import org.bouncycastle.pkcs.jcajce.JcePBMac1CalculatorProviderBuilder;

public class BcCmpClient {
    static final SecureRandom RANDOM = new SecureRandom();
    static final ASN1ObjectIdentifier ID_IT_CA_CERTS = new ASN1ObjectIdentifier("1.3.6.1.5.5.7.4.17");
    static final AlgorithmIdentifier HMAC_SHA1 = new AlgorithmIdentifier(new ASN1ObjectIdentifier("1.3.6.1.5.5.8.1.2"));
    static final AlgorithmIdentifier HMAC_SHA256 = new AlgorithmIdentifier(PKCSObjectIdentifiers.id_hmacWithSHA256, DERNull.INSTANCE);
    static final AlgorithmIdentifier SHA256 = new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256);

    final String url;
    final byte[] reference;
    final char[] secret;
    final X509CertificateHolder anchor;
    final Path outDir;

    BcCmpClient(String url, byte[] reference, char[] secret, X509CertificateHolder anchor, Path outDir) {
        this.url = url;
        this.reference = reference;
        this.secret = secret;
        this.anchor = anchor;
        this.outDir = outDir;
    }

    /** How a request is protected and how its answers are verified. */
    interface Protection {
        ProtectedPKIMessage build(ProtectedPKIMessageBuilder b) throws Exception;
        void verify(ProtectedPKIMessage resp) throws Exception;
    }

    /** MacFactory makes a MAC calculator with fresh parameters: a calculator protects one message only. */
    interface MacFactory {
        MacCalculator create() throws Exception;
    }

    /** MAC protection with a shared secret; answers must carry a MAC too. */
    class MAC implements Protection {
        final MacFactory calc;
        final PBEMacCalculatorProvider verifier;
        final ASN1ObjectIdentifier alg;

        MAC(MacFactory calc, PBEMacCalculatorProvider verifier, ASN1ObjectIdentifier alg) {
            this.calc = calc;
            this.verifier = verifier;
            this.alg = alg;
        }

        public ProtectedPKIMessage build(ProtectedPKIMessageBuilder b) throws Exception {
            b.setSenderKID(reference);
            return b.build(calc.create());
        }

        public void verify(ProtectedPKIMessage resp) throws Exception {
            // hasPasswordBasedMacProtection() knows only id-PasswordBasedMac
            // (1.72), so the protectionAlg is compared instead.
            ASN1ObjectIdentifier got = resp.getHeader().getProtectionAlg().getAlgorithm();
            if (!got.equals(alg)) {
                throw new Exception("answer protectionAlg " + got + ", want " + alg);
            }
            if (!resp.verify(verifier, secret)) {
                throw new Exception("answer MAC does not verify");
            }
        }
    }

    /** Signature protection with a key and its certificate; answers must be signed by a certificate chaining to the anchor. */
    class Signature implements Protection {
        final PrivateKey key;
        final X509CertificateHolder cert;

        Signature(PrivateKey key, X509CertificateHolder cert) {
            this.key = key;
            this.cert = cert;
        }

        public ProtectedPKIMessage build(ProtectedPKIMessageBuilder b) throws Exception {
            b.addCMPCertificate(cert);
            b.setSenderKID(subjectKeyID(cert));
            return b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key));
        }

        public void verify(ProtectedPKIMessage resp) throws Exception {
            if (resp.hasPasswordBasedMacProtection()) {
                throw new Exception("answer to a signed request is MAC-protected");
            }
            X509CertificateHolder[] certs = resp.getCertificates();
            if (certs.length == 0) {
                throw new Exception("signed answer without extraCerts");
            }
            X509CertificateHolder signer = certs[0];
            checkChain(signer, certs);
            if (!resp.verify(new JcaContentVerifierProviderBuilder().build(signer))) {
                throw new Exception("answer signature does not verify with extraCerts[0] " + signer.getSubject());
            }
            GeneralName sender = resp.getHeader().getSender();
            if (!sender.equals(new GeneralName(signer.getSubject()))) {
                throw new Exception("answer sender " + sender + " is not its signer " + signer.getSubject());
            }
        }
    }

    /** checkChain verifies that cert chains to the anchor through certs. */
    void checkChain(X509CertificateHolder cert, X509CertificateHolder[] certs) throws Exception {
        X509CertificateHolder cur = cert;
        for (int depth = 0; depth < 5; depth++) {
            if (cur.getIssuer().equals(anchor.getSubject())
                    && cur.isSignatureValid(new JcaContentVerifierProviderBuilder().build(anchor))) {
                return;
            }
            X509CertificateHolder next = null;
            for (X509CertificateHolder c : certs) {
                if (!c.equals(cur) && c.getSubject().equals(cur.getIssuer())
                        && cur.isSignatureValid(new JcaContentVerifierProviderBuilder().build(c))) {
                    next = c;
                    break;
                }
            }
            if (next == null) {
                break;
            }
            cur = next;
        }
        throw new Exception("certificate " + cert.getSubject() + " does not chain to the trust anchor " + anchor.getSubject());
    }

    static byte[] subjectKeyID(X509CertificateHolder cert) {
        Extension e = cert.getExtension(Extension.subjectKeyIdentifier);
        return e == null ? null : SubjectKeyIdentifier.getInstance(e.getParsedValue()).getKeyIdentifier();
    }

    static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    byte[] post(byte[] der) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
        c.setConnectTimeout(10000);
        c.setReadTimeout(20000);
        c.setRequestMethod("POST");
        c.setDoOutput(true);
        c.setRequestProperty("Content-Type", "application/pkixcmp");
        try (OutputStream o = c.getOutputStream()) {
            o.write(der);
        }
        int code = c.getResponseCode();
        if (code != 200) {
            throw new IOException("HTTP " + code);
        }
        String ct = c.getContentType();
        if (ct == null || !ct.startsWith("application/pkixcmp")) {
            throw new IOException("answer Content-Type " + ct + ", want application/pkixcmp");
        }
        try (InputStream in = c.getInputStream()) {
            return in.readAllBytes();
        }
    }

    /** One request/response exchange within a transaction. */
    class Exchange {
        final byte[] transactionID = random(16);
        final GeneralName sender;
        final GeneralName recipient;
        final Protection protection;
        byte[] lastServerNonce;

        Exchange(GeneralName sender, Protection protection) {
            this.sender = sender;
            this.recipient = new GeneralName(anchor.getSubject());
            this.protection = protection;
        }

        ProtectedPKIMessage send(PKIBody body, int wantType, String saveAs) throws Exception {
            byte[] nonce = random(16);
            ProtectedPKIMessageBuilder b = new ProtectedPKIMessageBuilder(PKIHeader.CMP_2000, sender, recipient)
                    .setTransactionID(transactionID)
                    .setSenderNonce(nonce)
                    .setMessageTime(new Date())
                    .setBody(body);
            if (lastServerNonce != null) {
                b.setRecipNonce(lastServerNonce);
            }
            byte[] der = protection.build(b).toASN1Structure().getEncoded(ASN1Encoding.DER);
            if (saveAs != null) {
                Files.write(outDir.resolve(saveAs), der);
            }
            PKIMessage raw = PKIMessage.getInstance(ASN1Primitive.fromByteArray(post(der)));
            ProtectedPKIMessage resp = new ProtectedPKIMessage(new GeneralPKIMessage(raw));
            PKIHeader h = resp.getHeader();
            if (resp.getBody().getType() == PKIBody.TYPE_ERROR) {
                ErrorMsgContent e = ErrorMsgContent.getInstance(resp.getBody().getContent());
                throw new Exception("error message: " + statusText(e.getPKIStatusInfo()));
            }
            if (h.getProtectionAlg() == null) {
                throw new Exception("answer is not protected");
            }
            protection.verify(resp);
            if (h.getPvno().intValueExact() < PKIHeader.CMP_2000) {
                throw new Exception("answer pvno " + h.getPvno());
            }
            if (h.getTransactionID() == null || !Arrays.equals(h.getTransactionID().getOctets(), transactionID)) {
                throw new Exception("answer transactionID differs from the request's");
            }
            if (h.getRecipNonce() == null || !Arrays.equals(h.getRecipNonce().getOctets(), nonce)) {
                throw new Exception("answer recipNonce is not the request's senderNonce");
            }
            if (h.getSenderNonce() == null || h.getSenderNonce().getOctets().length < 16) {
                throw new Exception("answer senderNonce missing or shorter than 128 bits");
            }
            lastServerNonce = h.getSenderNonce().getOctets();
            if (resp.getBody().getType() != wantType) {
                throw new Exception("answer body type " + resp.getBody().getType() + ", want " + wantType);
            }
            return resp;
        }
    }

    static String statusText(PKIStatusInfo si) {
        StringBuilder s = new StringBuilder("status " + si.getStatus());
        if (si.getFailInfo() != null) {
            s.append(" failInfo ").append(si.getFailInfo());
        }
        if (si.getStatusString() != null) {
            for (int i = 0; i < si.getStatusString().size(); i++) {
                s.append(" \"").append(si.getStatusString().getStringAtUTF8(i).getString()).append('"');
            }
        }
        return s.toString();
    }

    static void checkAccepted(PKIStatusInfo si) throws Exception {
        int st = si.getStatus().intValue();
        if (st != PKIStatus.GRANTED && st != PKIStatus.GRANTED_WITH_MODS) {
            throw new Exception("not accepted: " + statusText(si));
        }
    }

    static KeyPair newKey() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    /** Result of an enrollment: the certificate and its key. */
    static class Issued {
        final X509CertificateHolder cert;
        final KeyPair key;

        Issued(X509CertificateHolder cert, KeyPair key) {
            this.cert = cert;
            this.key = key;
        }
    }

    /** enroll runs ir, cr or kur (by reqType) and certConf, and returns the certificate. */
    Issued enroll(int reqType, String subject, Protection prot, GeneralName sender, CertId oldCert, String saveAs) throws Exception {
        KeyPair kp = newKey();
        SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded());
        CertificateRequestMessageBuilder rb = new CertificateRequestMessageBuilder(BigInteger.ZERO)
                .setSubject(new X500Name(subject))
                .setPublicKey(spki)
                .setProofOfPossessionSigningKeySigner(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()));
        if (oldCert != null) {
            rb.addControl(new OldCertID(oldCert));
        }
        CertReqMsg msg = rb.build().toASN1Structure();
        Exchange x = new Exchange(sender, prot);
        ProtectedPKIMessage resp = x.send(new PKIBody(reqType, new CertReqMessages(msg)), reqType + 1, saveAs);
        return confirm(x, resp, kp, spki, BigInteger.ZERO);
    }

    /** OldCertID is the id-regCtrl-oldCertID control (RFC 4211 section 6.5). */
    static class OldCertID implements Control {
        final CertId id;

        OldCertID(CertId id) {
            this.id = id;
        }

        public ASN1ObjectIdentifier getType() {
            return new ASN1ObjectIdentifier("1.3.6.1.5.5.7.5.1.5");
        }

        public ASN1Encodable getValue() {
            return id;
        }
    }

    /** confirm checks a certificate response and completes the transaction with certConf. */
    Issued confirm(Exchange x, ProtectedPKIMessage resp, KeyPair kp, SubjectPublicKeyInfo spki, BigInteger certReqId) throws Exception {
        CertRepMessage rep = CertRepMessage.getInstance(resp.getBody().getContent());
        CertResponse[] rs = rep.getResponse();
        if (rs.length != 1) {
            throw new Exception(rs.length + " CertResponses, want 1");
        }
        CertResponse r = rs[0];
        if (!r.getCertReqId().getValue().equals(certReqId)) {
            throw new Exception("certReqId " + r.getCertReqId().getValue() + ", want " + certReqId);
        }
        checkAccepted(r.getStatus());
        CMPCertificate cc = r.getCertifiedKeyPair().getCertOrEncCert().getCertificate();
        if (cc == null) {
            throw new Exception("no certificate in the response");
        }
        X509CertificateHolder cert = new X509CertificateHolder(cc.getX509v3PKCert());
        if (!cert.getSubjectPublicKeyInfo().equals(spki)) {
            throw new Exception("issued certificate's public key is not the requested one");
        }
        List<X509CertificateHolder> pool = new ArrayList<>(Arrays.asList(resp.getCertificates()));
        if (rep.getCaPubs() != null) {
            for (CMPCertificate c : rep.getCaPubs()) {
                pool.add(new X509CertificateHolder(c.getX509v3PKCert()));
            }
        }
        checkChain(cert, pool.toArray(new X509CertificateHolder[0]));
        CertificateConfirmationContent conf = new CertificateConfirmationContentBuilder()
                .addAcceptedCertificate(cert, certReqId)
                .build(new JcaDigestCalculatorProviderBuilder().build());
        x.send(new PKIBody(PKIBody.TYPE_CERT_CONFIRM, conf.toASN1Structure()), PKIBody.TYPE_CONFIRM, null);
        return new Issued(cert, kp);
    }

    MAC pbm(AlgorithmIdentifier mac) throws Exception {
        MacFactory f = () -> {
            PKMACBuilder b = new PKMACBuilder(new JcePKMACValuesCalculator());
            b.setParameters(new PBMParameter(random(16), SHA256, 10000, mac));
            return b.build(secret);
        };
        return new MAC(f, new PKMACBuilder(new JcePKMACValuesCalculator()), CMPObjectIdentifiers.passwordBasedMac);
    }

    MAC pbmac1() throws Exception {
        MacFactory f = () -> new JcePBMac1CalculatorBuilder("HmacSHA256", 256).setProvider("BC").setIterationCount(10000).build(secret);
        return new MAC(f, new JcePBMac1CalculatorProviderBuilder().setProvider("BC").build(), PKCSObjectIdentifiers.id_PBMAC1);
    }

    Signature signedBy(Issued i) {
        return new Signature(i.key.getPrivate(), i.cert);
    }

    static GeneralName name(String dn) {
        return new GeneralName(new X500Name(dn));
    }

    static String serial(X509CertificateHolder c) {
        return c.getSerialNumber().toString();
    }

    interface Case {
        String run() throws Exception;
    }

    static boolean failed;

    static void run(String name, Case c) {
        try {
            String detail = c.run();
            System.out.println("CASE " + name + " PASS" + (detail == null ? "" : " " + detail));
        } catch (Throwable e) {
            failed = true;
            String msg = String.valueOf(e.getMessage()).replace('\n', ' ');
            System.out.println("CASE " + name + " FAIL " + e.getClass().getSimpleName() + ": " + msg);
        }
        System.out.flush();
    }

    public static void main(String[] args) throws Exception {
        Security.addProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider());
        byte[] secretBytes = Files.readAllBytes(Paths.get(args[2]));
        char[] secret = new String(secretBytes, "UTF-8").toCharArray();
        X509CertificateHolder anchor;
        try (InputStream in = new FileInputStream(args[3])) {
            anchor = new JcaX509CertificateHolder((X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        BcCmpClient c = new BcCmpClient(args[0], args[1].getBytes("UTF-8"), secret, anchor, Paths.get(args[4]));
        Issued[] ir = new Issued[1];
        Issued[] kur = new Issued[1];

        run("ir-pbm-hmac-sha1", () -> {
            Issued i = c.enroll(PKIBody.TYPE_INIT_REQ, "CN=bc-ir-sha1", c.pbm(HMAC_SHA1), name("CN=bc-ir-sha1"), null, null);
            return "serial=" + serial(i.cert);
        });
        run("ir-pbm-hmac-sha256", () -> {
            Issued i = c.enroll(PKIBody.TYPE_INIT_REQ, "CN=bc-ir-sha256", c.pbm(HMAC_SHA256), name("CN=bc-ir-sha256"), null, null);
            ir[0] = i;
            return "serial=" + serial(i.cert);
        });
        run("ir-pbmac1", () -> {
            Issued i = c.enroll(PKIBody.TYPE_INIT_REQ, "CN=bc-ir-pbmac1", c.pbmac1(), name("CN=bc-ir-pbmac1"), null, "ir-pbmac1.der");
            return "serial=" + serial(i.cert);
        });
        run("p10cr", () -> {
            KeyPair kp = newKey();
            PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=bc-p10cr"), kp.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()));
            Exchange x = c.new Exchange(name("CN=bc-p10cr"), c.pbm(HMAC_SHA256));
            ProtectedPKIMessage resp = x.send(new PKIBody(PKIBody.TYPE_P10_CERT_REQ, CertificationRequest.getInstance(csr.getEncoded())),
                    PKIBody.TYPE_CERT_REP, null);
            // RFC 9483 section 4.1.4: the certReqId of a p10cr answer and its certConf is -1.
            Issued i = c.confirm(x, resp, kp, SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded()), BigInteger.ONE.negate());
            return "serial=" + serial(i.cert);
        });
        run("genm-caCerts", () -> {
            Exchange x = c.new Exchange(name("CN=bc-genm"), c.pbm(HMAC_SHA256));
            ProtectedPKIMessage resp = x.send(new PKIBody(PKIBody.TYPE_GEN_MSG, new GenMsgContent(new InfoTypeAndValue(ID_IT_CA_CERTS))),
                    PKIBody.TYPE_GEN_REP, null);
            InfoTypeAndValue[] items = GenRepContent.getInstance(resp.getBody().getContent()).toInfoTypeAndValueArray();
            for (InfoTypeAndValue it : items) {
                if (!it.getInfoType().equals(ID_IT_CA_CERTS) || it.getInfoValue() == null) {
                    continue;
                }
                ASN1Sequence seq = ASN1Sequence.getInstance(it.getInfoValue());
                for (int k = 0; k < seq.size(); k++) {
                    X509CertificateHolder h = new X509CertificateHolder(CMPCertificate.getInstance(seq.getObjectAt(k)).getX509v3PKCert());
                    if (h.equals(c.anchor)) {
                        return "certs=" + seq.size();
                    }
                }
                throw new Exception("caCerts does not hold the trust anchor");
            }
            throw new Exception("genp has no caCerts value");
        });
        run("cr", () -> {
            if (ir[0] == null) {
                throw new Exception("no certificate from ir to sign with");
            }
            Issued i = c.enroll(PKIBody.TYPE_CERT_REQ, "CN=bc-cr", c.signedBy(ir[0]), new GeneralName(ir[0].cert.getSubject()), null, null);
            return "serial=" + serial(i.cert);
        });
        run("kur", () -> {
            if (ir[0] == null) {
                throw new Exception("no certificate from ir to update");
            }
            X509CertificateHolder old = ir[0].cert;
            CertId id = new CertId(new GeneralName(old.getIssuer()), old.getSerialNumber());
            Issued i = c.enroll(PKIBody.TYPE_KEY_UPDATE_REQ, old.getSubject().toString(), c.signedBy(ir[0]), new GeneralName(old.getSubject()), id, null);
            kur[0] = i;
            return "serial=" + serial(i.cert) + " old=" + serial(old);
        });
        run("rr", () -> {
            if (kur[0] == null) {
                throw new Exception("no certificate from kur to revoke");
            }
            X509CertificateHolder cert = kur[0].cert;
            CertTemplate tmpl = new CertTemplateBuilder().setIssuer(cert.getIssuer()).setSerialNumber(new ASN1Integer(cert.getSerialNumber())).build();
            Extensions reason = new Extensions(new Extension(Extension.reasonCode, false, new DEROctetString(CRLReason.lookup(CRLReason.superseded))));
            RevReqContent rr = new RevReqContent(new RevDetails(tmpl, reason));
            Exchange x = c.new Exchange(new GeneralName(cert.getSubject()), c.signedBy(kur[0]));
            ProtectedPKIMessage resp = x.send(new PKIBody(PKIBody.TYPE_REVOCATION_REQ, rr), PKIBody.TYPE_REVOCATION_REP, null);
            RevRepContent rp = RevRepContent.getInstance(resp.getBody().getContent());
            PKIStatusInfo[] st = rp.getStatus();
            if (st.length != 1) {
                throw new Exception(st.length + " statuses in rp, want 1");
            }
            checkAccepted(st[0]);
            return "serial=" + serial(cert);
        });
        System.exit(failed ? 1 : 0);
    }
}
