// Tests for the URL parsing and credential/endpoint resolution of lib/storage/azure_storage.h
// (ParseAzureUrl, AzureConfigFrom with a fake environment), and request building (MakeRequest:
// path-style emulator URLs, SAS appended, Shared Key signed in the sign hook).

#include <doctest/doctest.h>

#include <map>
#include <string>

#include "storage/azure_storage.h"

namespace p2l {

namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::string {
    auto it = vars.find(name);
    return it == vars.end() ? std::string() : it->second;
  };
}

Result<AzureConfig> Config(std::string_view url, std::map<std::string, std::string> env,
                           std::string endpoint = "") {
  P2L_ASSIGN_OR_RETURN(AzureUrl u, ParseAzureUrl(url));
  StorageOptions o;
  o.endpoint = std::move(endpoint);
  return AzureConfigFrom(u, o, FakeEnv(std::move(env)));
}

}  // namespace

TEST_CASE("ParseAzureUrl: az:// and https:// forms") {
  auto a = ParseAzureUrl("az://acct1/cont-1/some/prefix/");
  REQUIRE(a.ok());
  CHECK(a->account == "acct1");
  CHECK(a->container == "cont-1");
  CHECK(a->prefix == "some/prefix");
  CHECK(a->shown == "az://acct1/cont-1/some/prefix");
  CHECK(a->endpoint.empty());

  auto root = ParseAzureUrl("az://acct1/cont");
  REQUIRE(root.ok());
  CHECK(root->prefix.empty());

  auto h = ParseAzureUrl("https://Acct1.blob.core.windows.net/cont/p%20q?sv=2019-12-12&sig=abc");
  REQUIRE(h.ok());
  CHECK(h->account == "acct1");
  CHECK(h->prefix == "p q");
  CHECK(h->endpoint == "https://acct1.blob.core.windows.net");
  CHECK(h->sas == "sv=2019-12-12&sig=abc");
  CHECK(h->shown.find("sig") == std::string::npos);
}

TEST_CASE("ParseAzureUrl: bad URLs are usage errors") {
  for (const char* bad : {"az://", "az://acct1", "az://acct1/", "az://AC/cont", "az://ab/cont", "az://acct1/Cont",
                          "az://acct1/-ab", "az://acct1/a--b", "az://acct1/cont/../x", "az://acct1/cont?sig=x",
                          "https://other.example.com/cont", "https://acct1.blob.core.windows.net/",
                          "https://u:p@acct1.blob.core.windows.net/cont"}) {
    auto r = ParseAzureUrl(bad);
    CHECK_MESSAGE(!r.ok(), bad);
    if (!r.ok()) CHECK(r.status().code() == Code::kUsage);
  }
}

TEST_CASE("AzureConfigFrom: credential sources in order") {
  const std::string key = "QUJDRA==";  // "ABCD"
  auto k = Config("az://acct1/cn1", {{"AZURE_STORAGE_KEY", key}, {"AZURE_STORAGE_SAS_TOKEN", "sv=1&sig=x"}});
  REQUIRE(k.ok());
  CHECK(k->key == "ABCD");
  CHECK(k->sas.empty());
  CHECK(k->credential_source == "AZURE_STORAGE_KEY");
  CHECK(k->endpoint == "https://acct1.blob.core.windows.net");

  auto sas = Config("az://acct1/cn1", {{"AZURE_STORAGE_SAS_TOKEN", "?sv=1&sig=x"}});
  REQUIRE(sas.ok());
  CHECK(sas->sas == "sv=1&sig=x");
  CHECK(sas->key.empty());

  auto cs = Config("az://devstoreaccount1/cn1",
                   {{"AZURE_STORAGE_CONNECTION_STRING", "UseDevelopmentStorage=true"}, {"AZURE_STORAGE_KEY", key}});
  REQUIRE(cs.ok());
  CHECK(cs->endpoint == "http://127.0.0.1:10000/devstoreaccount1");
  CHECK(cs->credential_source.starts_with("AZURE_STORAGE_CONNECTION_STRING"));

  auto suffix = Config("az://acct1/cn1", {{"AZURE_STORAGE_CONNECTION_STRING",
                                          "AccountName=acct1;AccountKey=QUJDRA==;EndpointSuffix=core.chinacloudapi.cn"}});
  REQUIRE(suffix.ok());
  CHECK(suffix->endpoint == "https://acct1.blob.core.chinacloudapi.cn");

  auto url_sas = Config("https://acct1.blob.core.windows.net/cn1?sv=1&sig=y", {{"AZURE_STORAGE_KEY", key}});
  REQUIRE(url_sas.ok());
  CHECK(url_sas->sas == "sv=1&sig=y");
  CHECK(url_sas->key.empty());
}

TEST_CASE("AzureConfigFrom: an env prefix reads PREFIX + name, and only that") {
  Result<AzureUrl> u = ParseAzureUrl("az://acct2/cn1");
  REQUIRE(u.ok());
  StorageOptions o;
  o.env_prefix = "DST_";
  const std::string key = "QUJDRA==";  // "ABCD"
  // The plain variables are not a fallback: the other side's credentials never reach this one.
  auto none = AzureConfigFrom(*u, o, FakeEnv({{"AZURE_STORAGE_KEY", key}}));
  REQUIRE(!none.ok());
  CHECK(none.status().code() == Code::kUsage);
  CHECK(none.status().message().find("DST_AZURE_STORAGE_KEY") != std::string::npos);
  auto k = AzureConfigFrom(*u, o, FakeEnv({{"AZURE_STORAGE_KEY", "WFla"}, {"DST_AZURE_STORAGE_KEY", key},
                                           {"DST_AZURE_STORAGE_ENDPOINT", "http://127.0.0.1:10000/acct2"}}));
  REQUIRE(k.ok());
  CHECK(k->key == "ABCD");
  CHECK(k->credential_source == "DST_AZURE_STORAGE_KEY");
  CHECK(k->endpoint == "http://127.0.0.1:10000/acct2");
  auto wrong =
      AzureConfigFrom(*u, o, FakeEnv({{"DST_AZURE_STORAGE_KEY", key}, {"DST_AZURE_STORAGE_ACCOUNT", "acct1"}}));
  REQUIRE(!wrong.ok());
  CHECK(wrong.status().message().find("DST_AZURE_STORAGE_ACCOUNT") != std::string::npos);
  auto sas = AzureConfigFrom(*u, o, FakeEnv({{"DST_AZURE_STORAGE_SAS_TOKEN", "sv=1&sig=x"}}));
  REQUIRE(sas.ok());
  CHECK(sas->credential_source == "DST_AZURE_STORAGE_SAS_TOKEN");
  auto cs = AzureConfigFrom(
      *u, o, FakeEnv({{"DST_AZURE_STORAGE_CONNECTION_STRING", "AccountName=acct1;AccountKey=QUJDRA=="}}));
  REQUIRE(!cs.ok());
  CHECK(cs.status().message().find("DST_AZURE_STORAGE_CONNECTION_STRING") != std::string::npos);
}

TEST_CASE("AzureConfigFrom: errors never show secrets") {
  auto none = Config("az://acct1/cn1", {});
  REQUIRE(!none.ok());
  CHECK(none.status().code() == Code::kUsage);
  CHECK(none.status().message().find("AZURE_STORAGE_KEY") != std::string::npos);

  auto bad = Config("az://acct1/cn1", {{"AZURE_STORAGE_KEY", "sekrit!!"}});
  REQUIRE(!bad.ok());
  CHECK(bad.status().message().find("sekrit") == std::string::npos);

  auto other = Config("az://acct1/cn1", {{"AZURE_STORAGE_KEY", "QUJDRA=="}, {"AZURE_STORAGE_ACCOUNT", "acct2"}});
  REQUIRE(!other.ok());
  CHECK(other.status().message().find("acct2") != std::string::npos);

  auto cs = Config("az://acct1/cn1", {{"AZURE_STORAGE_CONNECTION_STRING", "AccountName=acct2;AccountKey=QUJDRA=="}});
  REQUIRE(!cs.ok());
  CHECK(cs.status().message().find("QUJDRA") == std::string::npos);

  auto bs = Config("az://acct1/cn1", {{"AZURE_STORAGE_KEY", "QUJDRA=="}, {"PGDATA2LAYERS_AZURE_BLOCK_SIZE", "12"}});
  CHECK(!bs.ok());
  auto bs_ok = Config("az://acct1/cn1", {{"AZURE_STORAGE_KEY", "QUJDRA=="}, {"PGDATA2LAYERS_AZURE_BLOCK_SIZE", "65536"}});
  REQUIRE(bs_ok.ok());
  CHECK(bs_ok->block_size == 65536);
}

TEST_CASE("AzureConfigFrom: endpoints") {
  const std::map<std::string, std::string> key = {{"AZURE_STORAGE_KEY", "QUJDRA=="}};
  auto opt = Config("az://acct1/cn1", key, "http://127.0.0.1:10000/");
  REQUIRE(opt.ok());
  CHECK(opt->endpoint == "http://127.0.0.1:10000/acct1");  // emulator: path-style account added
  auto withpath = Config("az://acct1/cn1", key, "http://localhost:1/devstoreaccount1");
  REQUIRE(withpath.ok());
  CHECK(withpath->endpoint == "http://localhost:1/devstoreaccount1");
  auto env = Config("az://acct1/cn1", {{"AZURE_STORAGE_KEY", "QUJDRA=="},
                                      {"AZURE_STORAGE_ENDPOINT", "https://acct1.blob.core.usgovcloudapi.net"}});
  REQUIRE(env.ok());
  CHECK(env->endpoint == "https://acct1.blob.core.usgovcloudapi.net");
  for (const char* bad : {"ftp://x", "http://u:p@h", "http://h/?q", "http://", "http://h h"}) {
    CHECK_MESSAGE(!Config("az://acct1/cn1", key, bad).ok(), bad);
  }
}

TEST_CASE("AzureStorage::MakeRequest: URL, SAS and Shared Key signing") {
  auto cfg = Config("az://devstoreaccount1/cn1/pre", {{"AZURE_STORAGE_KEY", "QUJDRA=="}}, "http://127.0.0.1:9/");
  REQUIRE(cfg.ok());
  AzureStorage s(*cfg, StorageOptions());
  CHECK(s.Url() == "az://devstoreaccount1/cn1/pre");
  CHECK(s.Describe("a/b") == "az://devstoreaccount1/cn1/pre/a/b");
  CHECK(s.Key("a b") == "pre/a b");
  http::Request r = s.MakeRequest("GET", "pre/a b", {{"comp", "list"}});
  CHECK(r.url == "http://127.0.0.1:9/devstoreaccount1/cn1/pre/a%20b?comp=list");
  REQUIRE(r.sign);
  REQUIRE(r.sign(r).ok());
  auto auth = r.headers.Get("Authorization");
  REQUIRE(auth.has_value());
  CHECK(auth->starts_with("SharedKey devstoreaccount1:"));
  CHECK(r.headers.Has("x-ms-date"));
  CHECK(r.headers.Get("x-ms-version") == std::optional<std::string_view>(azure::kApiVersion));

  auto sas = Config("az://acct1/cn1", {{"AZURE_STORAGE_SAS_TOKEN", "sv=1&sig=x"}});
  REQUIRE(sas.ok());
  AzureStorage t(*sas, StorageOptions());
  http::Request q = t.MakeRequest("GET", "", {{"restype", "container"}});
  CHECK(q.url == "https://acct1.blob.core.windows.net/cn1?restype=container&sv=1&sig=x");
  CHECK(!q.sign);
}

}  // namespace p2l
