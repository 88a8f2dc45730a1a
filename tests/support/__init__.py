"""What tests import; fixtures stay in conftest.py.

servers   bin/stack, the product's processes against the test database, free ports, waiting
http      the product's WSGI server (granian) and real HTTP to it, cookies and all
orders    order messages: one made by hand, the orders on the topic, a group moved to its end
consumer  the order pipeline's tests: raw messages in, dead letters out, the real consumer
product   the whole product as `make run` starts it (bin/run), on free ports
browser   steps a person takes in the browser
"""
