@testable import CloudAuth
import Foundation
import XCTest

/// The service account JWT against one made by another implementation: Python's `cryptography`
/// 48 (`PKCS1v15` + `SHA256`, RS256) signed the same header and claims with this test-only key.
/// PKCS#1 v1.5 signatures are deterministic, so the whole assertion must be equal.
final class GoogleJWTKnownAnswerTests: XCTestCase {
    /// A throwaway key made for this test (`openssl genpkey -algorithm RSA`); it grants nothing.
    static let testKeyPEM = """
-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDHiQsOj2GmTUra
ICG7UMG3mKlmaHRR8q6lcG5yOCRCzYVl3PWn3A+vOzIscu6nuxr6CisFmN6tNE1C
bqgG4vnCPnrD1P3W4gvfstTeqLyoFtOdsZ8pTVXPMKo3Obu/AvehBHv42KIOuT46
i/ZLq/K5y69Mvz1KsA1y2nSln2iR1JY3xZQ3/XvHQ99qev2pTqBwDJon2RBHPwz0
BVeaN+4Szo6d44Wetfv3qhYXcACoBMotaBNyZTQ+EOGXuejctU+qwtjgoHKx7wx6
WsrRdoV0qNZx8kQ5YD8zfTgF9Ji1nkkGt97t/VyIWI9qrVwIO3ERMmDsvsbbAeZU
fRuANmknAgMBAAECggEACartgDfDkXKD7UGf9hrEPV2w3NIJdhb+DeypTUYZwQAt
ixvuQxh5zLxfgqEm8wrbvxWoXqMOLEeGdBuMb0OmukSbX3WoaYrrlwZrzfClrgyS
auePlfQLSPigpqsDb7kjFQgfQZVYH20rmLFDWQiXFW11rDrv1fiQY5Tgu02X8XN3
WQy1NiGYpXtJpWhL2MjEf3QoTAhN0AuNpuLQvB8c7J0CrAt1tL7BzKP949+MhQ3V
n1tGvXpcwkfGZtiOn1a7FsrwGFU7ZtEJ4rx3D89jW0FPfa77nduftXHScZ+UV+6u
t4Hs7ss1phS7SBv68VWO28+jqIl1oon54Jq9s3+CQQKBgQD+KZKyiQMDNFrfHDYc
3T3rENL7/prfb8aQ9wEEodtnneMpaJwZyZAQZjqrhR5hVBdwa+2yIZgrcLmLYIDB
XkUzv1cYspPxDGpwGZQ8vcCDJ8/SnsX9DCu5zv4S/wyRxllvLuzqM2Ga3qQQLvKq
Of06yyVIHBJNhW7g/pYF+xy81wKBgQDI+lyD04Py0Qw49BXNMxqMZf+JZjKzhx2D
lcikG3iNCTbqJgEIKv/gb+ndR6ekAk9HK6onbB+SWCDV3rsor0r9G1yTd4W6j7b4
Mnh52H+hO90KJAZjfNAaBrDsh3gFCgGdM0Xy5bPaf23DQ4dH3t1KGod4JjQegDo/
+y44ps9cMQKBgBOGyCF1S0j0vcKEXVfsW3Ryz3LSxb1CziOXBnn/oWadh7VHty54
ANxxrjI9QO9DUaWudQ2JbTJxL6AYouu4PWLTYXKhTaJoTMkd/fiIr4CkD2BkGFvv
knBtCbIV7DZK4dYb6dG4bthCIKKpqLURTXY140Bd/7368WDRzl7ZQwTzAoGATlcY
/OHUCzBlfUXXwbbr4FJZ+2r01HoUjRgzr5RttzwiRb8uo8pvF0NIe9LUi9/Cm1Fv
8BH7dIYZtoQtnDxIFMU3ntv2KrSec7zorUYw6d512OAWBW2/iIWXLXvY0s4Ftwsn
dvkG1GLbnEOUVfWPeLVCnRj3M/RzwEDe0YJkTeECgYEArd6/EOoY6MHRQW1a8oT6
IdQhl9/pVmDGKxxtYdMoG1bd2XdvPQ635bi8ZG/1YAD5h78sgjtIB6+cjbS3S+uM
qi40xMzZuW+P6gfPiJ4TfklhzqhntaXkPwPOzf7CjGv4tEqfd3GOa45S3Va9XUe1
nhA+6Mk503wyjuozz7H635A=
-----END PRIVATE KEY-----
"""

    static let expected = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImthdC1rZXktMSJ9.eyJpc3MiOiJrYXRAZmFrZS1wcm9qZWN0LmlhbS5nc2VydmljZWFjY291bnQuY29tIiwic2NvcGUiOiJodHRwczovL3d3dy5nb29nbGVhcGlzLmNvbS9hdXRoL2RldnN0b3JhZ2UucmVhZF9vbmx5IiwiYXVkIjoiaHR0cHM6Ly9vYXV0aDIuZ29vZ2xlYXBpcy5jb20vdG9rZW4iLCJpYXQiOjE3NjQ0NzE2MDAsImV4cCI6MTc2NDQ3NTIwMH0.jNv2l6t9eYvKXBmn6bmJ-ERCmU3dnLzgZQOFnkXZjyiJl1eA1kU-hWXbIHf8SRPH6RV6PcqbRmEOfPAthy-MM-sLvn4K79PWvoe6NvD3n3CbTBIPfI2E88-nqOG74ItW9xWEOUsbw8YLbdfudkdwDEu5FW68dzs6YHFgJosLNS4AgbdHOK0phoB3svDEAbn4bEggIvclzNyeh5pO3hLg82Ln0bCSYFnqxOJCNzd0kxATIy7OGSx_uxjTFEZ0p6rVGghdUTNezs6oeyJuFSfrgAPvKOYApD-v2v6cfO42eBrQeODOsgW7sTDxOf1Kd8TnhencNUU0RoGS_4DnzPSM-w"

    func testAssertionMatchesAnIndependentRS256Implementation() throws {
        let key = try GoogleServiceAccountKey(
            clientEmail: "kat@fake-project.iam.gserviceaccount.com", privateKeyPEM: Self.testKeyPEM, privateKeyID: "kat-key-1",
            tokenURI: GoogleServiceAccountKey.defaultTokenURI)
        let assertion = try key.assertion(scopes: [GoogleAccessTokenSource.storageReadScope], now: Date(timeIntervalSince1970: 1_764_471_600))
        XCTAssertEqual(assertion, Self.expected)
    }
}
