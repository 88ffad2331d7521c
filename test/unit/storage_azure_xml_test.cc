// Tests for lib/storage/azure_xml.{h,cc} (List Blobs pages, errors, block lists) and the Azure
// listing fuzz entry's properties on hostile inputs.

#include <doctest/doctest.h>

#include <string>

#include "storage/azure_fuzz_entry.h"
#include "storage/azure_xml.h"

namespace p2l {

namespace {

std::string Page(const std::string& blobs, const std::string& next = "") {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"http://x/\" "
         "ContainerName=\"c\"><Prefix>pg/</Prefix><Delimiter>/</Delimiter><Blobs>" +
         blobs + "</Blobs><NextMarker>" + next + "</NextMarker></EnumerationResults>";
}
std::string Blob(const std::string& name, const std::string& size = "10", const std::string& etag = "0x8D1",
                 const std::string& extra = "") {
  return "<Blob><Name>" + name + "</Name><Properties><Etag>" + etag + "</Etag><Content-Length>" + size +
         "</Content-Length>" + extra + "</Properties></Blob>";
}
std::string Pre(const std::string& p) { return "<BlobPrefix><Name>" + p + "</Name></BlobPrefix>"; }

int Fuzz(const std::string& s) {
  return FuzzAzureListingParser(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

}  // namespace

TEST_CASE("ParseAzureListPage: a normal page, prefix stripped, ETags quoted") {
  auto p = ParseAzureListPage(Page(Blob("pg/PG_VERSION", "3") + Blob("pg/global/x", "8192", "\"0x8D2\"") +
                                   Pre("pg/base/"),
                                   "2!92!MDAwMDE"),
                              "pg/", "az://a/c/pg");
  REQUIRE(p.ok());
  REQUIRE(p->objects.size() == 2);
  CHECK(p->objects[0].name == "PG_VERSION");
  CHECK(p->objects[0].size == 3);
  CHECK(p->objects[0].version == "\"0x8D1\"");
  CHECK(p->objects[1].version == "\"0x8D2\"");
  REQUIRE(p->prefixes.size() == 1);
  CHECK(p->prefixes[0] == "base/");
  CHECK(p->next_marker == "2!92!MDAwMDE");
  auto last = ParseAzureListPage(Page(""), "", "w");
  REQUIRE(last.ok());
  CHECK(last->next_marker.empty());
  CHECK(last->objects.empty());
}

TEST_CASE("ParseAzureListPage: directory markers and HNS directories are skipped") {
  auto p = ParseAzureListPage(Page(Blob("pg/dir/", "0") + Blob("pg/hns", "0", "0x1",
                                                                 "<ResourceType>directory</ResourceType>") +
                                   Blob("pg/f", "1")),
                              "pg/", "w");
  REQUIRE(p.ok());
  REQUIRE(p->objects.size() == 1);
  CHECK(p->objects[0].name == "f");
}

TEST_CASE("ParseAzureListPage: encoded names are decoded, then validated") {
  auto p = ParseAzureListPage(Page("<Blob><Name Encoded=\"true\">pg/a%20b</Name><Properties><Content-Length>1"
                                   "</Content-Length></Properties></Blob>"),
                              "pg/", "w");
  REQUIRE(p.ok());
  CHECK(p->objects[0].name == "a b");
  CHECK(p->objects[0].version.empty());
  auto ctl = ParseAzureListPage(Page("<Blob><Name Encoded=\"true\">pg/a%01b</Name><Properties><Content-Length>1"
                                     "</Content-Length></Properties></Blob>"),
                                "pg/", "w");
  CHECK(!ctl.ok());
  auto bad = ParseAzureListPage(Page("<Blob><Name Encoded=\"true\">pg/a%zz</Name></Blob>"), "pg/", "w");
  CHECK(!bad.ok());
}

TEST_CASE("ParseAzureListPage: hostile pages are errors naming the listing") {
  for (const std::string& xml :
       {Page(Blob("other/x")), Page(Blob("pg/../x")), Page(Blob("pg/a//b")), Page(Blob("pg/x", "-1")),
        Page(Blob("pg/x", "99999999999999999999999")), Page(Blob("pg/x", "")), Page(Pre("pg/")),
        Page(Pre("pg/noslash")), Page(Pre("other/")), Page("<Blob><Properties/></Blob>"),
        std::string("<ListBucketResult/>"), std::string("<EnumerationResults><Blobs>"), std::string("not xml"),
        Page("", std::string(5000, 'm')), Page(Blob("pg/x", "1", std::string(2000, 'e')))}) {
    auto r = ParseAzureListPage(xml, "pg/", "az://a/c/pg (listing page 1)");
    REQUIRE_MESSAGE(!r.ok(), xml);
    CHECK(r.status().message().find("az://a/c/pg (listing page 1)") != std::string::npos);
    CHECK(Fuzz(xml) == 0);
  }
  std::string many;
  for (int i = 0; i < 10001; i++) many += Blob("pg/o" + std::to_string(i));
  CHECK(!ParseAzureListPage(Page(many), "pg/", "w").ok());
  CHECK(!ParseAzureListPage(std::string(kMaxAzureXmlBytes + 1, ' '), "", "w").ok());
}

TEST_CASE("ParseAzureError: code and first message line, sanitized, never fails") {
  auto e = ParseAzureError(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to "
      "authenticate the request.\nRequestId:1\nTime:2</Message><AuthenticationErrorDetail>The MAC signature found "
      "... string-to-sign</AuthenticationErrorDetail></Error>");
  CHECK(e.code == "AuthenticationFailed");
  CHECK(e.message == "Server failed to authenticate the request.");
  CHECK(ParseAzureError("").code.empty());
  CHECK(ParseAzureError("garbage <<").code.empty());
  CHECK(ParseAzureError("<NotError><Code>x</Code></NotError>").code.empty());
  CHECK(ParseAzureError("<Error><Code>a\x01" "b</Code></Error>").code == "a?b");
  CHECK(ParseAzureError("<Error><Code>C</Code><Message>" + std::string(1000, 'x') + "</Message></Error>")
            .message.size() <= 303);
}

TEST_CASE("BuildAzureBlockList, QuoteETag, PercentDecode") {
  CHECK(BuildAzureBlockList({"QUJD", "REVG"}) ==
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>QUJD</Latest><Latest>REVG</Latest></BlockList>");
  CHECK(BuildAzureBlockList({"a<&>"}).find("<Latest>a&lt;&amp;&gt;</Latest>") != std::string::npos);
  CHECK(QuoteETag("") == "");
  CHECK(QuoteETag("0x8D") == "\"0x8D\"");
  CHECK(QuoteETag("\"0x8D\"") == "\"0x8D\"");
  std::string out;
  CHECK(PercentDecode("a%2Fb%e6%97%a5", &out));
  CHECK(out == "a/b\xe6\x97\xa5");
  CHECK(!PercentDecode("%4", &out));
  CHECK(!PercentDecode("%g0", &out));
}

}  // namespace p2l
