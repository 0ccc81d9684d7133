# users.auth.php: login:bcrypt:name:mail:groups (the test passwords are
# in the README and in cmd/permaudit/dokuwiki_test.go)
admin:$2y$10$icw8EfwcdDKa25OY3lidsug76cvh16oceRWX9Hojs1i7o4hwH7iCy:Wiki Admin:admin@example.invalid:admin,user
alice:$2y$10$DIT7a3P9QoBT4WSElxZdyuohn6q52SZKHPLzVumT5Xb5acG.WG4SK:Alice:alice@example.invalid:user
bob:$2y$10$YWgweFHWDN2m9Ic35kMzFOQDG2a4uKzDy1DdXHATqIFlod/1sOll2:Bob:bob@example.invalid:user,staff
