# The office VPN's plan, shared by the gateway and every colleague's machine: addresses,
# public keys, the gateway's public name. (Data, not a module: both import it in a `let`.)
{
  subnet = "10.88.0";
  port = 51820;
  endpoint = "vpn.example.test";
  gateway.publicKey = "og2dtwJ8lHRdP6aJjrTkFOBRzcBOrgYhTsNj5v4jXwQ=";
  # One entry per colleague: the tunnel address's last byte and the machine's public key.
  peers = {
    anna = { ip = 2; publicKey = "ZtHEf4cd+50nqhCvgEYdozT3UBck6ytGSOS5byFtukY="; };
    omar = { ip = 3; publicKey = "Bs1a9XQbmfJqX0qs9q9F3eK7Hw3kR1p0y6m7vVwS8nI="; };
    # The branch office's router (branch-router/).
    branch = { ip = 4; publicKey = "/FMypkFVv3Uu75p4kTYM9eDlnZs2RV89qXvRrcp2jR4="; };
  };
}
