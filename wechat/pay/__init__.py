"""The WeChat Pay API v3 adapter (partner mode): a narrow protocol (protocol.py), our client on
wechatpayv3's signing and crypto (client.py), and a fake WeChat Pay server for tests and fake mode
(fake.py). Nothing here reads configuration: keys, ids and URLs come in through constructors.
"""
