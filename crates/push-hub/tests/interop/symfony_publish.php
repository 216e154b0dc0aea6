<?php
// Publishes with Symfony's Mercure component (Debian's php-symfony-mercure), as a Symfony
// application does: `php symfony_publish.php HUB_URL TOKEN`. A static token provider holds the
// publisher token. Sends a public update on https://example.com/books/1 with a publisher id, then
// a private update of type `secret` on https://example.com/users/alice with an alternate topic,
// and prints the id the hub answered for each, one per line.

declare(strict_types=1);

require_once 'Symfony/Component/Mercure/autoload.php';

use Symfony\Component\Mercure\Hub;
use Symfony\Component\Mercure\Jwt\StaticTokenProvider;
use Symfony\Component\Mercure\Update;

if ($argc !== 3) {
    fwrite(STDERR, "usage: php symfony_publish.php HUB_URL TOKEN\n");
    exit(2);
}
[, $url, $token] = $argv;

$hub = new Hub($url, new StaticTokenProvider($token));

$public = new Update(
    'https://example.com/books/1',
    json_encode(['status' => 'OutOfStock']),
    false,
    'urn:example:books:1:v2'
);
echo $hub->publish($public), "\n";

$private = new Update(
    ['https://example.com/users/alice', 'https://example.com/users/alice/inbox'],
    json_encode(['message' => 'for alice only']),
    true,
    null,
    'secret'
);
echo $hub->publish($private), "\n";
